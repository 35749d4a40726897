"""Where the conversation stands in its playbook: which one, what holds, what is done."""

from __future__ import annotations

from copilot.deps import EngineDeps
from copilot.playbooks import Facts, PlaybookSet, track
from copilot.session_state import SessionState
from tools.view import Customer360

# A confident new intent with a playbook takes over from the current one; a hesitant one does not.
SWITCH_CONFIDENCE = 0.75
ESCALATION_PLAYBOOK = "complaint_escalation"


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
    """What the playbook's conditions read, from the session and the systems of record."""
    actions: dict[str, str] = {}
    for event_id, data in state.actions:
        name = data.get("action")
        if isinstance(name, str) and data.get("status", "done") not in ("failed", "error"):
            actions[name] = event_id
    identity = state.identity
    view = state.view
    return Facts(
        identity=identity.status if identity else None,
        verified=state.verification().status == "verified",
        account_pulled=view is not None,
        actions=actions,
        agent_turns=[(t.event_id, t.text) for t in state.turns if t.speaker in ("agent", "bot")],
        human_turns=[(t.event_id, t.text) for t in state.turns if t.speaker == "agent"],
        customer_turns=[(t.event_id, t.text) for t in state.turns if t.speaker == "customer"],
        view_facts=view_facts(view),
        unavailable=set()
        if view is None
        else {s.system for s in (view.billing, view.orders) if s.status == "unavailable"},
        identity_events=state.identity_events,
        opened=dict(state.opened),
        pending=[p.action_id for p in state.proposals.values() if p.status == "proposed"],
    )


def choose(playbooks: PlaybookSet, state: SessionState) -> None:
    """The conversation's topic: the bot's word until the copilot is surer."""
    guess = state.intent
    name = getattr(guess, "intent", None)
    stated = (state.handoff or {}).get("intent")
    if state.playbook_intent is None and stated and playbooks.for_intent(str(stated)):
        state.playbook_intent = str(stated)
    if (
        name != state.playbook_intent
        and playbooks.for_intent(name) is not None
        and (state.playbook_intent is None or guess.confidence >= SWITCH_CONFIDENCE)
    ):
        state.playbook_intent = name


def advance(deps: EngineDeps, state: SessionState) -> None:
    """Track the playbook; remember the facts it opened on, to check them cleared later."""
    playbooks = deps.playbooks
    if playbooks is None:
        return
    choose(playbooks, state)
    playbook = playbooks.for_intent(state.playbook_intent)
    if playbook is not None and state.view is not None and state.opened_for != playbook.intent:
        state.opened_for = playbook.intent
        state.opened = view_facts(state.view)
    found = facts(state)
    state.progress = track(playbook, found) if playbook else None
    state.escalation = None
    escalation = playbooks.for_intent(ESCALATION_PLAYBOOK)
    if getattr(state.mood, "alert", False) and escalation is not None:
        # At risk of losing the customer: the escalation playbook's next step rides along.
        state.escalation = track(escalation, found).next
