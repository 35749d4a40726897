"""Identity resolution across the silos: candidates with evidence, never a silent guess."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tools import identifiers as ids
from tools.base import Systems
from tools.calls import Caller, ToolCall, mask
from tools.errors import InvalidInput, SystemUnavailable
from tools.models import CustomerRef

Identifier = Literal["phone", "email", "account", "order", "card_purchase", "name_postal", "social"]

# How strongly one matching identifier alone points at a person.
STRENGTH: dict[Identifier, float] = {
    "account": 0.98,
    "email": 0.95,
    "order": 0.9,
    "phone": 0.9,
    "social": 0.85,
    "card_purchase": 0.85,
    "name_postal": 0.8,
}


class IdentityQuery(BaseModel):
    """Whatever identifiers the customer, the channel or the agent supplied, as typed."""

    model_config = ConfigDict(extra="forbid")

    phone: str | None = None
    email: str | None = None
    account: str | None = None
    order: str | None = None
    card_last4: str | None = None
    purchase_date: str | None = None
    amount: str | None = None
    tolerance_days: int = Field(
        1, ge=0, le=60, description="how many days either side of purchase_date to search"
    )
    name: str | None = None
    postal_code: str | None = None
    social: str | None = None

    def given(self) -> list[str]:
        return [
            k for k, v in self.model_dump(exclude={"tolerance_days"}).items() if v not in (None, "")
        ]


class Evidence(BaseModel):
    identifier: Identifier
    system: str
    detail: str = Field(description="what matched, with PII masked")


class Candidate(BaseModel):
    customer_id: str
    full_name: str
    confidence: float
    evidence: list[Evidence]


class Resolution(BaseModel):
    status: Literal["matched", "ambiguous", "not_found"]
    customer_id: str | None = Field(description="set only when status is matched")
    candidates: list[Candidate] = Field(description="best first")
    message: str
    degraded: list[str] = Field(description="systems that could not be asked, and why")
    tool_calls: list[ToolCall]


Lookup = Callable[[], Awaitable[list[tuple[str, Evidence]]]]


@dataclass(frozen=True)
class Normalized:
    """An IdentityQuery after validation: every value in the form the systems store it."""

    phone: str | None = None
    email: str | None = None
    social: str | None = None
    account: str | None = None
    order: str | None = None
    card: tuple[str, date, float] | None = None
    tolerance_days: int = 1
    name_postal: tuple[str, str] | None = None


def normalize(q: IdentityQuery) -> Normalized:
    """Validate every identifier, so bad input fails before any system is asked."""
    if not q.given():
        raise InvalidInput("query", "give at least one identifier: " + ", ".join(STRENGTH))
    card = None
    if any((q.card_last4, q.purchase_date, q.amount)):
        if not all((q.card_last4, q.purchase_date, q.amount)):
            raise InvalidInput(
                "card_last4", "a card purchase needs card_last4, purchase_date and amount together"
            )
        card = (
            ids.card_last4(q.card_last4 or ""),
            ids.purchase_date(q.purchase_date or ""),
            ids.amount(q.amount or ""),
        )
    name_postal = None
    if q.name or q.postal_code:
        if not (q.name and q.postal_code):
            raise InvalidInput(
                "name", "a name needs a postal_code with it, and the other way round"
            )
        name_postal = (ids.person_name(q.name), ids.postal_code(q.postal_code))
    return Normalized(
        phone=ids.phone(q.phone) if q.phone else None,
        email=ids.email(q.email) if q.email else None,
        social=ids.social_handle(q.social) if q.social else None,
        account=ids.account_number(q.account) if q.account else None,
        order=ids.order_number(q.order) if q.order else None,
        card=card,
        tolerance_days=q.tolerance_days,
        name_postal=name_postal,
    )


def _plan(systems: Systems, n: Normalized, call: Caller) -> list[Lookup]:
    plan: list[Lookup] = []

    def contact(kind: Literal["phone", "email", "social"], v: str) -> Lookup:
        async def run() -> list[tuple[str, Evidence]]:
            refs = await call("crm", systems.crm.find_by_contact, kind, v)
            ev = Evidence(identifier=kind, system="crm", detail=f"{kind} {mask(kind, v)}")
            return [(r.customer_id, ev) for r in refs]

        return run

    for kind, value in (("phone", n.phone), ("email", n.email), ("social", n.social)):
        if value:
            plan.append(contact(kind, value))  # type: ignore[arg-type]
    if n.account:
        account = n.account

        async def by_account() -> list[tuple[str, Evidence]]:
            ref = await call("billing", systems.billing.find_account, account)
            detail = f"billing account {mask('account', account)}"
            ev = Evidence(identifier="account", system="billing", detail=detail)
            return [] if ref is None else [(ref.customer_id, ev)]

        plan.append(by_account)
    if n.order:
        order = n.order

        async def by_order() -> list[tuple[str, Evidence]]:
            ref = await call("orders", systems.orders.find_order, order)
            ev = Evidence(identifier="order", system="orders", detail=f"order {order}")
            return [] if ref is None or ref.customer_id is None else [(ref.customer_id, ev)]

        plan.append(by_order)
    if n.card:
        last4, on, amount = n.card

        async def by_card() -> list[tuple[str, Evidence]]:
            refs = await call(
                "orders",
                systems.orders.find_card_purchases,
                last4,
                on,
                amount,
                n.tolerance_days,
            )
            return [
                (
                    r.customer_id,
                    Evidence(
                        identifier="card_purchase",
                        system="orders",
                        detail=f"card ****{last4}, {r.total:.2f} on {r.placed_at:%Y-%m-%d}"
                        f" ({r.order_number})",
                    ),
                )
                for r in refs
                if r.customer_id is not None
            ]

        plan.append(by_card)
    if n.name_postal:
        name, postal = n.name_postal

        async def by_name() -> list[tuple[str, Evidence]]:
            refs = await call("crm", systems.crm.find_by_name_postal, name, postal)
            ev = Evidence(
                identifier="name_postal", system="crm", detail=f"name and postal {postal}"
            )
            return [(r.customer_id, ev) for r in refs]

        plan.append(by_name)
    return plan


async def resolve(
    systems: Systems, query: IdentityQuery, caller: Caller | None = None
) -> Resolution:
    """Find the customer behind any mix of identifiers; ambiguous stays ambiguous."""
    call = caller or Caller()
    plan = _plan(systems, normalize(query), call)
    results = await asyncio.gather(*(lookup() for lookup in plan), return_exceptions=True)
    degraded: list[str] = []
    found: dict[str, list[Evidence]] = {}
    share: dict[Identifier, int] = {}
    for result in results:
        if isinstance(result, SystemUnavailable):
            degraded.append(result.message)
            continue
        if isinstance(result, BaseException):
            raise result
        owners = {cid for cid, _ in result}
        for cid, ev in result:
            if ev not in found.setdefault(cid, []):
                found[cid].append(ev)
            share[ev.identifier] = len(owners)
    candidates = await _name(systems, call, found, share, degraded)
    status, chosen, message = _decide(candidates, degraded)
    return Resolution(
        status=status,
        customer_id=chosen,
        candidates=candidates,
        message=message,
        degraded=degraded,
        tool_calls=list(call.calls),
    )


async def _name(
    systems: Systems,
    call: Caller,
    found: dict[str, list[Evidence]],
    share: dict[Identifier, int],
    degraded: list[str],
) -> list[Candidate]:
    if not found:
        return []
    names: dict[str, str] = {}
    try:
        refs: list[CustomerRef] = await call("crm", systems.crm.get_refs, sorted(found))
        names = {r.customer_id: r.full_name for r in refs}
    except SystemUnavailable as exc:
        degraded.append(exc.message)
    out = []
    for cid, evidence in found.items():
        miss = 1.0
        for identifier in {e.identifier for e in evidence}:
            # An identifier several customers share (a family phone) says less about each one.
            miss *= 1.0 - STRENGTH[identifier] / share.get(identifier, 1)
        out.append(
            Candidate(
                customer_id=cid,
                full_name=names.get(cid, "(name unavailable)"),
                confidence=round(1.0 - miss, 3),
                evidence=evidence,
            )
        )
    return sorted(
        out, key=lambda c: (-len({e.identifier for e in c.evidence}), -c.confidence, c.customer_id)
    )


def _decide(
    candidates: list[Candidate], degraded: list[str]
) -> tuple[Literal["matched", "ambiguous", "not_found"], str | None, str]:
    if not candidates:
        note = " (some systems could not be asked)" if degraded else ""
        return "not_found", None, f"no customer matches the identifiers given{note}"
    top = candidates[0]
    if len(candidates) == 1:
        return "matched", top.customer_id, f"matched {top.full_name} ({top.customer_id})"
    top_ids = {e.identifier for e in top.evidence}
    everyone = {e.identifier for c in candidates for e in c.evidence}
    if top_ids < everyone:
        return (
            "ambiguous",
            None,
            ("the identifiers point at different customers; ask the agent to confirm who this is"),
        )
    top_n, next_n = len(top_ids), len({e.identifier for e in candidates[1].evidence})
    if top_n > next_n:
        return (
            "matched",
            top.customer_id,
            (f"matched {top.full_name}: the only candidate matching {top_n} identifiers"),
        )
    return (
        "ambiguous",
        None,
        (
            f"{len(candidates)} customers match; ask the agent to confirm who this is "
            "with one more identifier"
        ),
    )
