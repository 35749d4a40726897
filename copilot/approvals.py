"""An agent's decision on a proposed write action: recorded with who decided; an approved one
runs once in its system, and its result comes back into the session as an event."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from copilot.events import Event
from copilot.panel import PanelUpdate
from tools.actions import check_approver
from tools.errors import ConfigurationError, CopilotError, InvalidInput, NotFound

if TYPE_CHECKING:
    from copilot.engine import Engine


async def decide(
    engine: Engine,
    session_id: str,
    action: str,
    approve: bool,
    by: str,
    at: datetime | None = None,
) -> PanelUpdate | None:
    """An agent approves or rejects a proposed action; approved ones run, then report back.

    at: when, on the conversation's clock (a replayed conversation has its own); now if None.
    """
    started = time.perf_counter()
    live = await engine.session(session_id)
    ledger = engine.deps.actions
    who = check_approver(by)
    async with engine.hold(live, fence=False):
        await engine.catch_up(live)  # decided on the session as the log has it now
        proposal = live.state.proposals.get(action)
        if ledger is None or proposal is None:
            raise NotFound(f"no action {action} in session {session_id}")
        if proposal.status != "proposed":
            raise InvalidInput("action", f"{action} is already {proposal.status}")
        if approve and proposal.blocked:
            raise InvalidInput("action", f"{action} cannot be done now: {proposal.blocked}")
        proposal.status = "approved" if approve else "rejected"
        proposal.decided_by, proposal.decided_at = who, datetime.now(UTC)
        ledger.decide(action, proposal.status, who)
        if not approve:
            update = engine.refresh(live, action, started, source="action")
            await engine.publish(update)
            return update
    runner = engine.deps.systems_for(live.state).actions
    try:
        if runner is None:
            raise ConfigurationError("no system can perform write actions here")
        outcome = await runner.perform(action, proposal.request, approved_by=who)
    except CopilotError as exc:
        async with engine.hold(live, fence=False):  # the action is decided: say how it ended
            # Another worker may have moved the session on while the system ran the action:
            # mark the proposal of the copy the log has now, and publish after its version.
            await engine.catch_up(live)
            proposal = live.state.proposals.get(action, proposal)
            proposal.status, proposal.result = "failed", str(exc)
            ledger.decide(action, "failed", None, str(exc))
            update = engine.refresh(live, action, started, source="action")
            await engine.publish(update)
        return update
    proposal.status, proposal.result = "done", outcome.message
    ledger.decide(action, "done", None, outcome.message)
    channel = live.state.channels[-1][0] if live.state.channels else "chat"
    return await engine.handle(
        Event(
            event_id=f"{action}.done",
            session_id=session_id,
            type="action_result",
            speaker="system",
            channel=channel,
            ts=at or datetime.now(UTC),
            data={
                "action": proposal.kind,
                "status": "done",
                "action_id": action,
                "approved_by": who,
                "reference": outcome.reference,
                "message": outcome.message,
                "changes": dict(outcome.changes),
            },
        )
    )
