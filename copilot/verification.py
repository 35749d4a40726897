"""Identity checks wherever they were made, and whether the newest still holds now."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from copilot.handoff import VerificationState

METHOD_NAMES = {
    "otp_sms": "a texted code",
    "kba": "security questions",
    "pin": "PIN",
    "id_document": "ID document",
    "voice_biometrics": "voice print",
    "email_link": "an email link",
}
CHANNEL_NAMES = {"ivr": "IVR", "sms": "SMS", "web": "the web", "store": "a store"}


@dataclass(frozen=True)
class Check:
    """One identity check, wherever it was done."""

    method: str
    channel: str
    at: datetime
    result: str = "passed"
    source: str = "this conversation"
    # Whom it verified: the customer identified when it was made, or, when nobody was yet,
    # the customer a channel-given identifier (`contact`) later matches. A check that names
    # neither verified somebody the copilot cannot name, so it verifies nobody.
    subject: str | None = None
    contact: tuple[str, ...] = ()

    def bound(self, customer_id: str) -> Check:
        return replace(self, subject=customer_id)


def _named(check: Check) -> tuple[str, str]:
    """How and where a check was made, in the agent's words."""
    how = METHOD_NAMES.get(check.method, check.method.replace("_", " "))
    return how, CHANNEL_NAMES.get(check.channel, check.channel)


def unbound_text(check: Check, identified: bool) -> str:
    """What the card says for a check nobody can be sure was of this customer."""
    how, where = _named(check)
    if not check.contact:
        return f"{how} passed in {where}, but the channel named no contact: verify this customer"
    if identified:
        return f"{how} passed in {where} for a contact that is not this customer's: verify them"
    return f"{how} passed in {where} for a contact not matched to a customer yet"


def ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def verification_state(checks: list[Check], now: datetime, window: timedelta) -> VerificationState:
    """The newest check decides: passed and inside the window is verified; older is expired."""
    minutes = window.total_seconds() / 60
    usable = [c for c in checks if c.at <= now + timedelta(minutes=1)]  # no checks from the future
    if not usable:
        return VerificationState(
            status="none", window_minutes=minutes, text="not verified in this or a recent contact"
        )
    last = max(usable, key=lambda c: c.at)
    how, where = _named(last)
    when = ago(now - last.at)
    if last.result != "passed":
        status, text = "failed", f"verification by {how} in {where} failed, {when}"
    elif now - last.at <= window:
        status, text = "verified", f"verified by {how} in {where}, {when}"
    else:
        status = "expired"
        text = f"verified by {how} in {where}, {when}: older than {minutes:g} minutes, ask again"
    return VerificationState(
        status=status,
        method=last.method,
        channel=last.channel,
        at=last.at,
        window_minutes=minutes,
        text=text,
        source=last.source,
    )
