"""Next-best-action and offer cards: the playbook tracker and the offer gate, fed by the session."""

from __future__ import annotations

from typing import Any

from copilot.offers import OfferDecision
from copilot.panel import Card, Provenance
from copilot.playbooks import Facts, Progress
from copilot.state import SessionState
from tools.view import Customer360


def view_facts(view: Customer360 | None) -> dict[str, str]:
    """The facts playbook steps can depend on, each in words that cite the data."""
    out: dict[str, str] = {}
    if view is None:
        return out
    for acct in view.billing.data or []:
        number = acct.account.account_number
        if acct.past_due:
            due = acct.past_due
            out.setdefault("past_due", f"{number} past due {due.amount:.2f} since {due.due_date}")
            if due.late_fees:
                out.setdefault("late_fee", f"late fee {due.late_fees:.2f} on {number}")
        if acct.autopay.status == "failed":
            why = acct.autopay.last_failure_reason or "unknown reason"
            out.setdefault("autopay_failed", f"autopay failed on {number} ({why})")
        if acct.autopay.card_expired:
            out.setdefault("card_expired", f"autopay card {acct.autopay.card} has expired")
        for usage in acct.usage:
            if usage.overage_months:
                out.setdefault(
                    "data_overage",
                    f"line ****{usage.msisdn[-4:]} over its data allowance in "
                    f"{usage.overage_months} of the last 4 months",
                )
    orders = view.orders.data
    if orders is not None:
        if orders.open_orders:
            out["open_order"] = f"open order {orders.open_orders[0].order_number}"
        for purchase in orders.recent_purchases:
            order = purchase.order
            out.setdefault(
                "recent_purchase", f"order {order.order_number} on {order.placed_at.date()}"
            )
            if not order.receipt_issued:
                out.setdefault("no_receipt", f"order {order.order_number} has no receipt")
    return out


def facts(state: SessionState) -> Facts:
    actions: dict[str, str] = {}
    for event_id, data in state.actions:
        name = data.get("action")
        if isinstance(name, str) and data.get("status", "done") not in ("failed", "error"):
            actions[name] = event_id
    identity = state.identity
    return Facts(
        identity=identity.status if identity else None,
        verified=state.verification().status == "verified",
        account_pulled=state.view is not None,
        actions=actions,
        agent_turns=[(t.event_id, t.text) for t in state.turns if t.speaker in ("agent", "bot")],
        human_turns=[(t.event_id, t.text) for t in state.turns if t.speaker == "agent"],
        customer_turns=[(t.event_id, t.text) for t in state.turns if t.speaker == "customer"],
        view_facts=view_facts(state.view),
        unavailable=set()
        if state.view is None
        else {
            s.system for s in (state.view.billing, state.view.orders) if s.status == "unavailable"
        },
        identity_events=state.identity_events,
    )


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
        else {"step": step.id, "title": step.title, "say": step.say, "uses": step.uses},
        "reason": progress.reason,
        "blocked_by": progress.blocked_by,
        "resolved": progress.resolved,
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
