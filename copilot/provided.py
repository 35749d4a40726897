"""What the customer already gave, and what an agent's line asks for again."""

from __future__ import annotations

import re

from copilot.handoff import Provided, VerificationState
from tools.calls import mask

# What an agent's line asks for, by the field it would collect again. Questions only: "I have your
# phone number here" is not asking.
ASKS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(
        r"\b(your|the)\s+(phone|mobile|cell|contact)(\s+number)?\b"
        r"|\bnumber (you're|you are) calling",
        re.I,
    ),
    "email": re.compile(r"\b(your|the)\s+e-?mail(\s+address)?\b", re.I),
    "account": re.compile(r"\b(your|the)\s+account\s+(number|id)\b", re.I),
    "order": re.compile(r"\b(your|the)\s+order\s+(number|id)\b", re.I),
    "identity": re.compile(
        r"\bverify\s+(your|you|the account|who)|\b(security|verification)\s+(question|code|pin)"
        r"|\bdate of birth\b|\blast four\b",
        re.I,
    ),
    "issue": re.compile(
        r"\bhow can i help\b|\bwhat can i (do|help)\b|\bwhat seems to be\b"
        r"|\bwhat('s| is) the (problem|issue)\b"
        r"|\bwhat are you (calling|contacting|writing) about\b",
        re.I,
    ),
}
_QUESTION = re.compile(
    r"\?|\b(can|could|may|would) (i|you)\b|\b(please )?(tell|give|confirm|provide|share)\b", re.I
)
FIELD_NAMES = {
    "phone": "phone number",
    "email": "email address",
    "account": "account number",
    "order": "order number",
    "identity": "identity check",
    "issue": "reason for contact",
}


def asked(text: str) -> list[str]:
    """The fields an agent's line asks the customer for."""
    if not _QUESTION.search(text):
        return []
    return [field for field, pattern in ASKS.items() if pattern.search(text)]


def provided_item(
    field: str, value: object, source: str, channel: str | None, event_id: str | None
) -> Provided:
    shown = str(value) if field in ("issue", "identity", "amount", "date") else mask(field, value)
    return Provided(field=field, value=shown, source=source, channel=channel, event_id=event_id)


def identity_item(check: VerificationState) -> Provided | None:
    """A verification that still holds, as something already provided; None otherwise."""
    if check.status != "verified":
        return None
    source = check.source or "earlier check"
    return Provided(field="identity", value=check.text, source=source, channel=check.channel)


def repeat_message(item: Provided) -> str:
    name = FIELD_NAMES.get(item.field, item.field.replace("_", " "))
    where = f" in {item.channel}" if item.channel else ""
    return (
        f"Already collected: {name} ({item.value}, from the {item.source}{where}). "
        "No need to ask again."
    )
