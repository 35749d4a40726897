"""Before anything is stored or shown: the utterance and every string in the event's data masked."""

from __future__ import annotations

from typing import Any

from copilot.events import Event
from copilot.pii import RedactionPolicy, redact, redact_reply
from copilot.session_state import SessionState


def clean_all(events: list[Event], state: SessionState, policy: RedactionPolicy) -> list[Event]:
    """Events in conversation order as they may be stored, each read after the ones before it."""
    turns = state.turns
    where = {t.event_id: i for i, t in enumerate(turns)}
    last = (turns[-1].speaker, turns[-1].text) if turns else None
    out: list[Event] = []
    for event in events:
        # A retry is read in the place it first came, so it is cleaned the same way again.
        seen = where.get(event.event_id)
        if seen is None:
            before = last
        else:
            before = (turns[seen - 1].speaker, turns[seen - 1].text) if seen else None
        text = redact(event.text, policy).text
        if event.speaker == "customer" and before is not None and before[0] in ("bot", "agent"):
            # A bare code typed right after a code prompt ("402931") is a secret too.
            text = redact_reply(before[1], text) or text
        data = (
            _metadata(event.data, policy) if event.type == "metadata" else _data(event.data, policy)
        )
        out.append(event.model_copy(update={"text": text, "data": data}))
        if seen is None and event.type == "utterance" and text.strip():
            last = (event.speaker, text)
    return out


# What a channel names the customer by: kept as sent (a tenant's contact masking is for what
# people type), so identity holds after a restart; card numbers and national ids never are.
IDENTITY_FIELDS = frozenset({"phone", "email", "account", "order", "customer_id"})
ALWAYS = RedactionPolicy()


def _metadata(data: dict[str, Any], policy: RedactionPolicy) -> dict[str, Any]:
    return {k: _data(v, ALWAYS if k in IDENTITY_FIELDS else policy) for k, v in data.items()}


def _data(value: Any, policy: RedactionPolicy) -> Any:
    if isinstance(value, str):
        return redact(value, policy).text
    if isinstance(value, dict):
        return {k: _data(v, policy) for k, v in value.items()}
    if isinstance(value, list):
        return [_data(v, policy) for v in value]
    return value
