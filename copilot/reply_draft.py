"""The reply draft without a model: the top article's customer script, filled with the facts.

An article may hold `Say: "..."` lines with [slots], and `Once it is fixed, say:` (the
conversation resolved) or `Once <action> is done, say:` (that action's result is in) lines, used
only on that evidence; the loader keeps them out of ranked retrieval (tools/kb/loaders.py). A
slot the session has no fact for, or a draft the reply policy refuses, leaves the card empty with
the reason: nothing is guessed.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from copilot.panel import Card, Provenance
from copilot.pii import RedactionPolicy
from copilot.reply_policy import ReplyFacts, facts_of, masked, money, reply_problem
from copilot.session_state import SessionState
from tools.view import AccountSummary

_LINE = re.compile(r"(?i)\b(?:once (it is fixed|[a-z_]+ is done), )?say:\s*\"([^\"]+)\"")
_SLOT = re.compile(r"\[([a-z ]+)\]")


def _account(state: SessionState) -> AccountSummary | None:
    accounts = (state.view.billing.data or []) if state.view else []
    return next((a for a in accounts if a.past_due), accounts[0] if accounts else None)


def _past_due(state: SessionState) -> str | None:
    account = _account(state)
    return money(account.past_due.amount) if account and account.past_due else None


def _due_date(state: SessionState) -> str | None:
    account = _account(state)
    return account.past_due.due_date.isoformat() if account and account.past_due else None


def _late_fee(state: SessionState) -> str | None:
    account = _account(state)
    due = account.past_due if account else None
    return money(due.late_fees) if due and due.late_fees else None


def _usage(state: SessionState, what: str) -> str | None:
    account = _account(state)
    line = next((u for u in account.usage), None) if account else None
    if line is None:
        return None
    if what == "plan":
        return line.plan
    if what == "allowance":
        return f"{line.allowance_gb:g} GB" if line.allowance_gb is not None else None
    return f"{line.overage_months} of the last 4 months" if line.overage_months else None


def _purchase(state: SessionState, what: str) -> str | None:
    """The open order for tracking; the newest purchase, its first item, for returns."""
    orders = state.view.orders.data if state.view else None
    if orders is None:
        return None
    if what.startswith("open order"):
        first = orders.open_orders[0] if orders.open_orders else None
        if first is None:
            return None
        return first.status if what == "open order status" else first.order_number
    newest = orders.recent_purchases[0] if orders.recent_purchases else None
    if newest is None:
        return None
    item = newest.items[0] if newest.items else None
    if what == "order number":
        return newest.order.order_number
    if what == "item":
        return item.name if item else None
    return item.return_until.isoformat() if item and item.eligible and item.return_until else None


def _profile(state: SessionState, what: str) -> str | None:
    profile = state.view.profile.data if state.view else None
    if profile is None:
        return None
    return profile.first_name if what == "first name" else profile.tier


SLOTS: dict[str, Callable[[SessionState], str | None]] = {
    "first name": lambda s: _profile(s, "first name"),
    "tier": lambda s: _profile(s, "tier"),
    "amount due": _past_due,
    "due date": _due_date,
    "late fee": _late_fee,
    "balance": lambda s: money(a.account.balance) if (a := _account(s)) else None,
    "card": lambda s: a.autopay.card if (a := _account(s)) else None,
    "plan": lambda s: _usage(s, "plan"),
    "allowance": lambda s: _usage(s, "allowance"),
    "months over": lambda s: _usage(s, "months over"),
    "open order": lambda s: _purchase(s, "open order"),
    "open order status": lambda s: _purchase(s, "open order status"),
    "order number": lambda s: _purchase(s, "order number"),
    "item": lambda s: _purchase(s, "item"),
    "return by": lambda s: _purchase(s, "return by"),
}


def fill(template: str, state: SessionState) -> tuple[str | None, str]:
    """The template with every slot filled, or None and the first slot no fact fills."""
    missing: list[str] = []

    def value(m: re.Match[str]) -> str:
        got = SLOTS[m.group(1)](state) if m.group(1) in SLOTS else None
        if got is None:
            missing.append(m.group(1))
            return m.group()
        return got

    text = _SLOT.sub(value, template)
    if missing:
        who = "" if state.view is not None else " (no customer identified yet)"
        return None, f"the script needs the customer's {missing[0]}, which no system gave{who}"
    return " ".join(text.split()), ""


def _holds(when: str, facts: ReplyFacts) -> bool:
    """Whether the evidence a line waits for is in: resolved, or that action done."""
    if when.lower() == "it is fixed":
        return facts.resolved
    return when.lower().removesuffix(" is done") in facts.actions


def _empty(reason: str, **prov: list[str]) -> Card:
    return Card(
        type="reply_draft",
        id="reply_draft",
        status="empty",
        data={"text": None, "reason": reason, "source": "offline"},
        provenance=Provenance(**prov),
    )


def reply_card(state: SessionState, policy: RedactionPolicy | None = None) -> Card:
    """The draft from the top article's script, checked by the one reply policy."""
    found = state.knowledge
    if found is None:
        return _empty("no customer question yet")
    if not found.hits:
        return _empty(f"no knowledge passage fits: {found.reason}")
    top = found.hits[0]
    script = state.script
    lines = _LINE.findall(script.text) if script is not None else []
    if script is None or script.article_id != top.citation.article_id or not lines:
        return _empty(f"'{top.citation.title}' has no script with this customer's facts to fill")
    facts = facts_of(state, [script.text], policy)
    # A line that waits for evidence comes first once the evidence is in; plain lines after.
    ordered = [t for when, t in lines if when and _holds(when, facts)]
    ordered += [t for when, t in lines if not when]
    why = ""
    for template in ordered:
        text, why = fill(template, state)
        if text is None:
            continue
        text = masked(text, facts)
        problem = reply_problem(text, facts)
        if problem is None:
            return Card(
                type="reply_draft",
                id="reply_draft",
                data={"text": text, "citations": [script.chunk_id], "source": "offline"},
                provenance=Provenance(
                    events=[state.knowledge_event or ""],
                    tool_calls=[c.id for c in state.view.tool_calls] if state.view else [],
                    passages=[script.chunk_id],
                ),
            )
        why = f"draft held back: it {problem}"
    return _empty(why, passages=[script.chunk_id])
