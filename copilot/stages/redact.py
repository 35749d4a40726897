"""Before anything is stored or shown: the utterance and every string in the event's data masked."""

from __future__ import annotations

from typing import Any

from copilot.events import Event
from copilot.pii import RedactionPolicy, redact, redact_reply
from copilot.session_state import SessionState


def clean(event: Event, state: SessionState, policy: RedactionPolicy) -> Event:
    """The event as it may be stored: raw text never leaves the fold."""
    text = redact(event.text, policy).text
    turns = state.turns
    if event.speaker == "customer" and turns and turns[-1].speaker in ("bot", "agent"):
        # A bare code typed right after a code prompt ("402931") is a secret too.
        text = redact_reply(turns[-1].text, text) or text
    return event.model_copy(update={"text": text, "data": _data(event.data, policy)})


def _data(value: Any, policy: RedactionPolicy) -> Any:
    if isinstance(value, str):
        return redact(value, policy).text
    if isinstance(value, dict):
        return {k: _data(v, policy) for k, v in value.items()}
    if isinstance(value, list):
        return [_data(v, policy) for v in value]
    return value
