"""What the model starts from: the facts the fast path already gathered, and only the new turns.

Every prompt carries the previous summary and the turns since it, cut to a tiktoken budget, so a
conversation's cost grows with its length, not with its length squared.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any

from copilot.actions import USES_TO_KIND, missing_inputs, offline_request
from copilot.pii import redact
from copilot.playbooks import Playbook
from copilot.reply_policy import ReplyFacts, facts_of
from copilot.session_state import SessionState
from copilot.stages.playbook import view_facts
from tools.calls import mask
from tools.kb.tokens import count

FINISHED = ("done", "not_needed")  # step statuses the model may not pick as the next action
PASSAGE_CHARS = 180  # the passage's best sentence or two; search_knowledge gives more


@dataclass
class Brief:
    """One turn's context, ready to render; also what policy checks the answer against."""

    session_id: str
    customer_id: str | None
    facts: list[str]
    playbook: str
    steps: list[tuple[str, str, str]]  # (id, status, title)
    next_step: tuple[str, str, str | None] | None  # (id, say, uses)
    offer: tuple[str, str, str] | None  # (id, title, why): the one the offer gate allows now
    offer_gate: str
    passages: list[tuple[str, str, str]]  # (id, title, text)
    previous_summary: str
    new_turns: list[str]
    omitted: int
    covers: int  # turns covered once this brief's summary is accepted
    accounts: set[str] = field(default_factory=set)
    orders: set[str] = field(default_factory=set)
    open_uses: set[str] = field(default_factory=set)  # `uses` of the steps not yet done
    # The arguments the engine would give each open step's action (the account it is about, the
    # secure form's payment method): filled into the model's proposals of that kind.
    prepared: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: dict[str, list[str]] = field(default_factory=dict)  # kind -> inputs not yet given
    reply: ReplyFacts = field(default_factory=ReplyFacts)  # what a reply draft may rest on

    @property
    def situation(self) -> str:
        """What a model turn would be about, without the summary it would update: the same after
        an event that adds no turn and changes no fact (a channel switch, a note), so that event
        is not asked about again."""
        unsaid = ("previous_summary", "turns")
        shown = {k: v for k, v in self.variables().items() if k not in unsaid}
        body = json.dumps([shown, self.covers, sorted(self.prepared)], sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()[:16]

    @property
    def open_steps(self) -> list[str]:
        return [sid for sid, status, _ in self.steps if status not in FINISHED]

    @property
    def step_ids(self) -> dict[str, str]:
        return {sid: status for sid, status, _ in self.steps}

    def variables(self) -> dict[str, Any]:
        return {
            "facts": "\n".join(f"- {f}" for f in self.facts) or "- (no customer identified yet)",
            "playbook": self.playbook or "(none yet)",
            "steps": _steps(self.steps),
            "next_step": (
                f"{self.next_step[0]} (uses {self.next_step[2] or 'nothing'}): {self.next_step[1]}"
                if self.next_step
                else "(none)"
            ),
            "offer": (
                f"- offer {self.offer[0]}: {self.offer[1]}. Why: {self.offer[2]}"
                if self.offer
                else f"- (none allowed now: {self.offer_gate})"
            ),
            "passages": "\n".join(f"- passage {i} ({t}): {x}" for i, t, x in self.passages)
            or "- (none retrieved)",
            "previous_summary": self.previous_summary or "(none yet: this is the first turn)",
            "turns": ("\n".join(self.new_turns) or "(no new turns)")
            + (
                f"\n({self.omitted} earlier turns left out: over the budget)"
                if self.omitted
                else ""
            ),
        }


def _steps(steps: list[tuple[str, str, str]]) -> str:
    """Finished steps on one line; the rest one per line with their titles."""
    done = [i for i, s, _ in steps if s in FINISHED]
    lines = [f"- done: {', '.join(done)}"] if done else []
    lines += [f"- step {i} [{s}]: {t}" for i, s, t in steps if s not in FINISHED]
    return "\n".join(lines) or "- (none)"


def _digest(state: SessionState) -> list[str]:
    view = state.view
    if view is None:
        return []
    out: list[str] = []
    profile = view.profile.data
    if profile is not None:
        out.append(
            f"customer {view.customer_id}: {profile.full_name}, {profile.tier} tier, "
            f"customer since {profile.customer_since}, prefers {profile.preferred_channel}"
        )
    for name, section in (
        ("crm", view.profile),
        ("billing", view.billing),
        ("orders", view.orders),
    ):
        if section.status != "ok":
            out.append(f"{name} is unavailable ({section.error}): say so, do not guess")
    for acct in view.billing.data or []:
        a = acct.account
        auto = acct.autopay
        line = (
            f"account {a.account_number}: balance {a.balance:.2f} {a.currency}, "
            f"autopay {auto.status}"
        )
        if auto.card:
            line += f" ({auto.card}{', expired' if auto.card_expired else ''})"
        if auto.last_failure_reason:
            line += f", last failure {auto.last_failure_reason}"
        if acct.past_due:
            due = acct.past_due
            line += (
                f"; past due {due.amount:.2f} since {due.due_date} ({due.days_past_due} days), "
                f"late fees {due.late_fees:.2f}"
            )
        out.append(line)
        for usage in acct.usage:
            recent = ", ".join(f"{m} {gb:.1f} GB" for m, gb in usage.recent)
            allowance = "unlimited" if usage.allowance_gb is None else f"{usage.allowance_gb} GB"
            out.append(
                f"line {usage.line_id} ({mask('msisdn', usage.msisdn)}) on {usage.plan}, "
                f"{allowance}: {recent}"
            )
    orders = view.orders.data
    if orders is not None:
        for order in orders.open_orders[:3]:
            out.append(f"open order {order.order_number}: {order.status}, total {order.total:.2f}")
        for purchase in orders.recent_purchases[:3]:
            o = purchase.order
            items = "; ".join(
                f"item {i.item_id} {i.name} (returnable until {i.return_until}, "
                f"exchangeable until {i.exchange_until})"
                for i in purchase.items
            )
            receipt = "receipt issued" if o.receipt_issued else "no receipt"
            out.append(f"purchase {o.order_number} on {o.placed_at.date()}, {receipt}: {items}")
        if orders.last_device is not None:
            d = orders.last_device
            out.append(f"phone {d.name}, bought {d.purchased}, {d.months_owned} months owned")
    # The lines above already state the other facts; this one is a conclusion they leave implicit.
    overage = view_facts(view).get("data_overage")
    if overage:
        out.append(f"data_overage: {overage}")
    for entry in view.timeline[:1]:  # where this contact came from; tools give the rest
        out.append(f"earlier contact {entry.at.date()} by {entry.channel}: {entry.summary}")
    return [redact(line).text for line in out]


def _prepared(open_uses: set[str], state: SessionState) -> dict[str, dict[str, Any]]:
    if state.view is None:
        return {}
    out: dict[str, dict[str, Any]] = {}
    for uses in sorted(open_uses):
        request = offline_request(uses, state.view, state.payment_method)
        if request is not None:
            out[request.kind] = request.model_dump(mode="json", exclude={"kind"})
    return out


def build(state: SessionState, budget_tokens: int, playbook: Playbook | None = None) -> Brief:
    """The brief for the model's next turn on this session."""
    progress = state.progress
    status = {s.id: s.status for s in progress.steps} if progress else {}
    open_uses = {
        step.uses
        for step in (playbook.steps if playbook else [])
        if step.uses and status.get(step.id) in ("next", "open")
    }
    notes = state.llm
    fresh = state.turns[notes.covered :]
    kept: list[str] = []
    spent = 0
    for turn in reversed(fresh):
        line = f"{turn.speaker} ({turn.channel}): {turn.text}"
        cost = count(line)
        if kept and spent + cost > budget_tokens:
            break
        kept.append(line)
        spent += cost
    kept.reverse()
    decision = state.offer
    shown = decision.offer if decision else None
    view = state.view
    accounts = {a.account.account_number for a in (view.billing.data or [])} if view else set()
    orders_data = view.orders.data if view else None
    return Brief(
        session_id=state.session_id,
        customer_id=view.customer_id if view else None,
        facts=_digest(state),
        playbook=progress.title if progress else "",
        steps=[(s.id, s.status, s.title) for s in progress.steps] if progress else [],
        next_step=(progress.next.id, progress.next.say or progress.next.title, progress.next.uses)
        if progress and progress.next
        else None,
        offer=(shown.offer_id, shown.title, shown.why) if shown else None,
        offer_gate=(decision.held_back or "no eligible offer") if decision else "no customer yet",
        passages=[
            (h.chunk_id, h.citation.title, " ".join(h.citation.snippet.split())[:PASSAGE_CHARS])
            for h in (state.knowledge.hits if state.knowledge else [])
        ],
        previous_summary=notes.summary or "",
        new_turns=kept,
        omitted=len(fresh) - len(kept),
        covers=len(state.turns),
        accounts=accounts,
        orders={
            o.order_number
            for o in (
                (orders_data.open_orders + [p.order for p in orders_data.recent_purchases])
                if orders_data
                else []
            )
        },
        open_uses=open_uses,
        prepared=_prepared(open_uses, state),
        waiting={
            USES_TO_KIND[uses]: missing
            for uses in open_uses
            if (missing := missing_inputs(uses, state.payment_method))
        },
        reply=facts_of(
            state,
            [
                *(h.text for h in (state.knowledge.hits if state.knowledge else [])),
                *((shown.title, shown.why) if shown else ()),
                *((progress.next.say or "",) if progress and progress.next else ()),
            ],
        ),
    )
