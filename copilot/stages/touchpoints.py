"""This session's row among the customer's touchpoints, for journeys across channels."""

from __future__ import annotations

import json

from copilot.deps import EngineDeps
from copilot.session_state import SessionState
from copilot.touchpoints import Touchpoint


def touch(deps: EngineDeps, state: SessionState) -> None:
    """Write the row when something worth it changed (customer, channel, topic, verification)."""
    log, view = deps.touchpoints, state.view
    if log is None or view is None or state.now is None:
        return
    own = [c for c in state.verifications if c.result == "passed" and c.subject == view.customer_id]
    last = max(own, key=lambda c: c.at) if own else None
    intent = state.playbook_intent or getattr(state.intent, "intent", None)
    channel = state.channels[-1][0] if state.channels else "chat"
    key = json.dumps([view.customer_id, channel, intent, last and last.at.isoformat()])
    if key == state.touchpoint_key:
        return
    state.touchpoint_key = key
    log.record(
        Touchpoint(
            session_id=state.session_id,
            tenant=deps.tenant_of(state.session_id) if deps.tenant_of else None,
            customer_id=view.customer_id,
            channel=channel,
            started_at=state.started or state.now,
            last_at=state.now,
            intent=intent,
            verified_method=last.method if last else None,
            verified_channel=last.channel if last else None,
            verified_at=last.at if last else None,
        )
    )
