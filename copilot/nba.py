"""Next-best-action and offer cards: the playbook tracker and the offer gate, fed by the session."""

from __future__ import annotations

from typing import Any

from copilot.actions import missing_inputs
from copilot.offers import OfferDecision
from copilot.panel import Card, Provenance
from copilot.playbooks import Progress
from copilot.session_state import SessionState


def nba_card(state: SessionState, progress: Progress | None, source: str) -> Card:
    if progress is None:
        if state.escalation is not None:
            return Card(
                type="next_best_action",
                id="next_best_action",
                data={"next": None, "reason": "no playbook yet", "escalation": _escalation(state)},
            )
        reason = (
            "no intent yet"
            if state.intent is None
            else f"no playbook for '{getattr(state.intent, 'intent', None)}'"
        )
        return Card(
            type="next_best_action",
            id="next_best_action",
            status="empty",
            data={"next": None, "reason": reason},
        )
    step = progress.next
    data: dict[str, Any] = {
        "intent": progress.intent,
        "playbook": progress.title,
        "source": source,
        "next": None
        if step is None
        else {
            "step": step.id,
            "title": step.title,
            "say": step.say,
            "uses": step.uses,
            "waiting_for": missing_inputs(step.uses, state.payment_method),
        },
        "reason": progress.reason,
        "blocked_by": progress.blocked_by,
        "resolved": progress.resolved,
        "count": progress.count,
        "unresolved": progress.unresolved,
        "steps": [s.model_dump() for s in progress.steps],
        "escalation": _escalation(state),
    }
    view = state.view
    return Card(
        type="next_best_action",
        id="next_best_action",
        data=data,
        provenance=Provenance(
            events=sorted(
                {*progress.events, *([state.intent_event] if state.intent_event else [])}
            ),
            tool_calls=[c.id for c in view.tool_calls] if view else [],
        ),
    )


def _escalation(state: SessionState) -> dict[str, Any] | None:
    step = state.escalation
    if step is None:
        return None
    why = getattr(state.mood, "alert_reason", None) or "escalation risk"
    return {"step": step.id, "title": step.title, "uses": step.uses, "reason": why}


def offer_card(state: SessionState, decision: OfferDecision | None) -> Card:
    if decision is None:
        return Card(
            type="offer", id="offer", status="empty", data={"offer": None, "held_back": None}
        )
    answered = state.offer_history.answered()
    offer = decision.offer
    if offer is None:
        return Card(
            type="offer",
            id="offer",
            status="empty",
            data={"offer": None, "held_back": decision.held_back, "answered": answered},
        )
    return Card(
        type="offer",
        id="offer",
        data={
            "offer": offer.model_dump(mode="json"),
            "why": offer.why,
            "held_back": None,
            "answered": answered,
        },
        provenance=Provenance(
            events=[e.event_id for e in state.offer_history.events if e.offer_id == offer.offer_id],
            tool_calls=offer.evidence,
        ),
    )
