"""Write actions: the next step's proposal with its inputs and a preview, and what settles one.

Nothing is written until a named agent approves. A proposal is made only once every input it
needs is known (updating autopay needs the secure form's token for a new payment method), and
it carries the system's own preview of what will change.
"""

from __future__ import annotations

from typing import Any

from copilot.actions import Proposal, action_id, offline_request
from copilot.deps import EngineDeps
from copilot.events import Event
from copilot.session_state import SessionState
from tools.actions import ActionRequest, ChangePlan
from tools.errors import CopilotError


async def propose_next(deps: EngineDeps, state: SessionState) -> None:
    """The next step's write action, where the view says on what: the agent's one approval."""
    step = state.progress.next if state.progress else None
    if deps.actions is None or step is None or state.view is None:
        return
    request = offline_request(step.uses, state.view, state.payment_method)
    if request is not None:
        await add(deps, state, request, "playbook", f"step {step.id}: {step.title}")


async def propose_plan(deps: EngineDeps, state: SessionState, offer: Any) -> None:
    """An accepted plan offer becomes the plan change itself, waiting for the agent's approval."""
    if offer is None or not offer.plan_code or not offer.line_id:
        return
    request = ChangePlan(kind="change_plan", line_id=offer.line_id, plan_code=offer.plan_code)
    await add(deps, state, request, "offer", f"the customer accepted {offer.title}")


def settle(deps: EngineDeps, state: SessionState, event: Event) -> None:
    """An action done outside the copilot (a bot, another screen) closes its proposal."""
    done = event.data.get("action")
    if event.data.get("status", "done") in ("failed", "error") or not done:
        return
    for proposal in state.proposals.values():
        if proposal.kind == done and proposal.status == "proposed":
            proposal.status = "done"
            proposal.result = f"done outside the copilot ({event.event_id})"
            if deps.actions is not None:
                deps.actions.decide(proposal.action_id, "done", None, proposal.result)


async def add(
    deps: EngineDeps, state: SessionState, request: ActionRequest, by: str, why: str
) -> Proposal | None:
    """Record a proposal once, with the system's preview; the action card asks for approval."""
    if deps.actions is None or state.view is None:
        return None
    key = action_id(state.session_id, request)
    known: Proposal | None = state.proposals.get(key)
    if known is not None:
        return known
    proposal = Proposal(
        action_id=key,
        session_id=state.session_id,
        customer_id=state.view.customer_id,
        request=request,
        proposed_by=by,
        why=why,
    )
    await preview(deps, proposal, state)
    deps.actions.propose(proposal)
    state.proposals[proposal.action_id] = proposal
    return proposal


async def preview(deps: EngineDeps, proposal: Proposal, state: SessionState) -> None:
    """What approving would change, as the system of record computes it; nothing is written."""
    runner = deps.systems_for(state).actions
    if runner is None or proposal.status != "proposed":
        return
    try:
        shown = await runner.preview(proposal.request)
    except CopilotError as exc:
        proposal.blocked = str(exc)
        return
    proposal.preview_message, proposal.changes = shown.message, dict(shown.changes)
