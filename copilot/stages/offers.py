"""The offer gate: only to a verified customer whose issue is resolved on evidence and who is
in a good mood that is not getting worse, and never while escalation risk is high.
"""

from __future__ import annotations

from copilot.deps import EngineDeps
from copilot.events import Event
from copilot.offers import OfferDecision, choose, eligible
from copilot.session_state import SessionState
from copilot.stages import actions

OFFER_RESPONSES = ("accepted", "dismissed")
MAX_RISK = 0.7  # the escalation risk at which the alert switches on
# Conversations where selling anything reads as not listening.
NO_OFFER_TOPICS = frozenset(
    {"cancel_service", "complaint_escalation", "switch_to_competitor", "speak_to_human"}
)


def resolved(state: SessionState) -> bool:
    """The one reading of "resolved": the playbook's, else an action result that says so."""
    if state.progress is not None:
        return state.progress.resolved
    return any(d.get("resolves") for _, d in state.actions)


def held_back(state: SessionState) -> str | None:
    """Why no offer may be made now, in words for the card; None when one may."""
    mood = state.mood
    label = getattr(getattr(mood, "current", None), "label", None)
    if state.playbook_intent in NO_OFFER_TOPICS:
        return f"no offers in a {state.playbook_intent} talk"
    if getattr(mood, "alert", False) or float(getattr(mood, "risk", 0.0)) >= MAX_RISK:
        return "escalation risk is high"
    if label == "negative":
        return "customer mood is negative"
    if getattr(mood, "direction", None) == "worsening":
        return "customer mood is getting worse"
    if state.verification().status != "verified":
        return "customer is not verified"
    if not resolved(state):
        return "issue still open"
    return None


async def gate(deps: EngineDeps, state: SessionState, event: Event) -> None:
    history = state.offer_history
    history.session_id = event.session_id
    data = event.data
    if event.type == "action_result" and data.get("action") == "offer_response":
        offer_id, answer = str(data.get("offer_id")), data.get("response")
        # Only an answer to the offer on screen counts; anything else is ignored, not stored.
        known = offer_id in {e.offer_id for e in history.events}
        if (
            answer in OFFER_RESPONSES
            and known
            and history.record(offer_id, answer, event.event_id, event.ts)
        ):
            _ledger(deps, state, offer_id, answer, event)
            shown = state.offer.offer if state.offer is not None else None
            if answer == "accepted" and shown is not None and shown.offer_id == offer_id:
                await actions.propose_plan(deps, state, shown)
    if deps.offers is None or state.view is None:
        state.offer = None
        return
    why = held_back(state)
    if why is not None:
        state.offer = OfferDecision(held_back=why)
        return
    done = {str(v) for _, d in state.actions for k, v in d.items() if k in ("sku", "plan")}
    done |= {str(getattr(p.request, "plan_code", "")) for p in state.proposals.values()}
    state.offer = choose(
        # What the agent just sold, changed or proposed is not offered again.
        [
            m
            for m in eligible(deps.offers, state.view, deps.today())
            if not {m.sku, m.plan_code} & done
        ],
        mood_label=None,
        issue_resolved=True,
        history=history,
    )
    shown = state.offer.offer
    if shown is not None and not state.offer.already_shown:
        history.record(shown.offer_id, "shown", event.event_id, event.ts)
        _ledger(deps, state, shown.offer_id, "shown", event)


def _ledger(
    deps: EngineDeps, state: SessionState, offer_id: str, status: str, event: Event
) -> None:
    if deps.ledger is not None and state.view is not None:
        deps.ledger.record(
            event.session_id,
            state.view.customer_id,
            offer_id,
            status,  # type: ignore[arg-type]
            event.event_id,
            event.ts,
        )
