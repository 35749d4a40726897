"""The unified customer view: one parallel fan-out, one typed document, one status per section."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from datetime import UTC, date, datetime, timedelta
from typing import Generic, Literal, TypeVar

from pydantic import BaseModel, Field

from tools.base import Systems
from tools.calls import Caller, ToolCall
from tools.errors import NotFound, SystemUnavailable
from tools.models import (
    BillingAccount,
    CustomerHistory,
    CustomerOrders,
    CustomerProfile,
    Order,
    ReturnPolicy,
)

T = TypeVar("T")
D = TypeVar("D")
OPEN_ORDER = {"placed", "shipped"}
RECENT_DAYS = 90


class Section(BaseModel, Generic[T]):
    """One system's part of the view; a failed system degrades only its own section."""

    system: str
    status: Literal["ok", "unavailable"]
    error: str | None = None
    latency_ms: float
    data: T | None = None


class PastDue(BaseModel):
    invoice_id: str
    amount: float
    due_date: date
    days_past_due: int
    late_fees: float


class AutopayState(BaseModel):
    status: Literal["active", "failed", "cancelled", "none"]
    card: str | None = Field(description="brand and last four digits, never more")
    card_expired: bool
    last_failure_reason: str | None
    last_attempt_at: datetime | None


class LineUsage(BaseModel):
    line_id: str
    msisdn: str
    plan: str
    allowance_gb: float | None = Field(description="None means unlimited")
    recent: list[tuple[str, float]] = Field(description="(YYYY-MM, GB) for the last 4 months")
    overage_months: int = Field(description="months of the last 4 over the allowance")


class AccountSummary(BaseModel):
    account: BillingAccount
    past_due: PastDue | None
    autopay: AutopayState
    usage: list[LineUsage]


class ItemEligibility(BaseModel):
    item_id: int
    name: str
    category: str
    return_until: date | None
    exchange_until: date | None
    eligible: bool
    receipt_required: bool
    policy: str


class Purchase(BaseModel):
    order: Order
    items: list[ItemEligibility]


class DeviceHolding(BaseModel):
    """The newest phone the customer bought and kept, among the orders the view fetched."""

    sku: str
    name: str
    order_number: str
    purchased: date
    months_owned: int = Field(description="full months from purchase to the view's day")


class OrdersSummary(BaseModel):
    open_orders: list[Order]
    recent_purchases: list[Purchase] = Field(description=f"last {RECENT_DAYS} days, newest first")
    last_device: DeviceHolding | None = Field(
        None, description="newest phone bought and not returned; None when no phone was bought"
    )


class TimelineEntry(BaseModel):
    at: datetime
    channel: str
    kind: Literal["interaction", "verification", "purchase"]
    summary: str
    outcome: str
    source: str = Field(description="the record it came from: system and id")


class Customer360(BaseModel):
    customer_id: str
    generated_at: datetime
    profile: Section[CustomerProfile]
    billing: Section[list[AccountSummary]]
    orders: Section[OrdersSummary]
    interactions: Section[CustomerHistory]
    timeline: list[TimelineEntry] = Field(description="newest first, across channels and systems")
    tool_calls: list[ToolCall]


async def _section(system: str, work: Awaitable[D]) -> tuple[Section[D], D | None]:
    start = time.perf_counter()
    try:
        data = await work
    except SystemUnavailable as exc:
        ms = round((time.perf_counter() - start) * 1000, 2)
        return Section[D](
            system=system, status="unavailable", error=exc.message, latency_ms=ms
        ), None
    ms = round((time.perf_counter() - start) * 1000, 2)
    return Section[D](system=system, status="ok", latency_ms=ms, data=data), data


async def customer_360(
    systems: Systems,
    customer_id: str,
    *,
    caller: Caller | None = None,
    today: date | None = None,
    parallel: bool = True,
) -> Customer360:
    """Ask every system at once; each section reports its own system's state."""
    call = caller or Caller()
    day = today or date.today()
    p = _section("crm", call("crm", systems.crm.get_profile, customer_id))
    h = _section("crm", call("crm", systems.crm.get_history, customer_id, 50))
    b = _section("billing", call("billing", systems.billing.get_customer_billing, customer_id))
    o = _section("orders", call("orders", systems.orders.get_customer_orders, customer_id, 20))
    if parallel:
        (
            (profile_s, profile),
            (history_s, history),
            (billing_s, billing),
            (orders_s, orders),
        ) = await asyncio.gather(p, h, b, o)
    else:  # the baseline the benchmark compares against
        profile_s, profile = await p
        history_s, history = await h
        billing_s, billing = await b
        orders_s, orders = await o
    nothing_elsewhere = not billing and not (orders and orders.orders)
    if profile_s.status == "ok" and profile is None and nothing_elsewhere:
        raise NotFound(f"no customer {customer_id}")
    accounts = [summarize_account(a, day) for a in billing] if billing is not None else None
    return Customer360(
        customer_id=customer_id,
        generated_at=datetime.now(UTC),
        profile=profile_s,
        billing=_retype(billing_s, accounts),
        orders=_retype(orders_s, summarize_orders(orders, day) if orders else None),
        interactions=history_s,
        timeline=timeline(history, orders),
        tool_calls=list(call.calls),
    )


def _retype(section: Section[T], data: D | None) -> Section[D]:
    return Section[D](
        system=section.system,
        status=section.status,
        error=section.error,
        latency_ms=section.latency_ms,
        data=data,
    )


def summarize_account(account: BillingAccount, today: date) -> AccountSummary:
    """Derive what an agent needs first: what is overdue, why autopay failed, usage vs plan."""
    overdue = [i for i in account.invoices if i.status == "past_due"]
    past_due = None
    if overdue:
        oldest = min(overdue, key=lambda i: i.due_date)
        fees = sum(
            a.amount
            for a in account.adjustments
            if a.kind == "late_fee" and a.invoice_id in {i.invoice_id for i in overdue}
        )
        past_due = PastDue(
            invoice_id=oldest.invoice_id,
            amount=round(sum(i.amount - i.amount_paid for i in overdue), 2),
            due_date=oldest.due_date,
            days_past_due=max(0, (today - oldest.due_date).days),
            late_fees=round(fees, 2),
        )
    mandate = account.autopay
    if mandate is None:
        autopay = AutopayState(
            status="none",
            card=None,
            card_expired=False,
            last_failure_reason=None,
            last_attempt_at=None,
        )
    else:
        autopay = AutopayState(
            status=mandate.status,
            card=f"{mandate.card_brand} ending {mandate.card_last4}"
            if mandate.card_last4
            else None,
            card_expired=_expired(mandate.card_expiry, today),
            last_failure_reason=mandate.last_failure_reason,
            last_attempt_at=mandate.last_attempt_at,
        )
    usage = []
    for line in account.lines:
        allowance = line.plan.data_gb
        if allowance is not None:
            allowance += sum(a.data_gb or 0.0 for a in line.addons)
        recent = [(u.month, u.data_gb) for u in line.usage[:4]]
        over = 0 if allowance is None else sum(1 for _, gb in recent if gb > allowance)
        usage.append(
            LineUsage(
                line_id=line.line_id,
                msisdn=line.msisdn,
                plan=line.plan.name,
                allowance_gb=allowance,
                recent=recent,
                overage_months=over,
            )
        )
    return AccountSummary(account=account, past_due=past_due, autopay=autopay, usage=usage)


def _expired(expiry: str | None, today: date) -> bool:
    if not expiry:
        return False
    month, year = (int(x) for x in expiry.split("/"))
    first_after = date(2000 + year + month // 12, month % 12 + 1, 1)
    return today >= first_after


def summarize_orders(data: CustomerOrders, today: date) -> OrdersSummary:
    """Open orders, and recent purchases with each item's return and exchange window."""
    policies: dict[str, ReturnPolicy] = {p.category: p for p in data.policies}
    since = today - timedelta(days=RECENT_DAYS)
    purchases = []
    for order in data.orders:
        if order.placed_at.date() < since or order.status == "cancelled":
            continue
        start = order.placed_at.date()
        for s in order.shipments:
            if s.delivered_at:
                start = max(start, s.delivered_at.date())
        items = []
        for item in order.items:
            policy = policies.get(item.category)
            returned = any(r.item_id == item.item_id for r in order.returns)
            ret = (
                start + timedelta(days=policy.return_days)
                if policy and policy.return_days
                else None
            )
            exch = (
                start + timedelta(days=policy.exchange_days)
                if policy and policy.exchange_days
                else None
            )
            eligible = not returned and any(d is not None and today <= d for d in (ret, exch))
            items.append(
                ItemEligibility(
                    item_id=item.item_id,
                    name=item.name,
                    category=item.category,
                    return_until=ret,
                    exchange_until=exch,
                    eligible=eligible,
                    receipt_required=policy.receipt_required if policy else True,
                    policy="already returned"
                    if returned
                    else (policy.no_receipt_policy if policy else "no policy on file"),
                )
            )
        purchases.append(Purchase(order=order, items=items))
    return OrdersSummary(
        open_orders=[o for o in data.orders if o.status in OPEN_ORDER],
        recent_purchases=purchases,
        last_device=last_device(data.orders, today),
    )


def last_device(orders: list[Order], today: date) -> DeviceHolding | None:
    """The newest phone among the orders, skipping cancelled orders and returned phones."""
    for order in sorted(orders, key=lambda o: o.placed_at, reverse=True):
        if order.status in {"cancelled", "returned"}:
            continue
        returned = returned_items(order)
        for item in order.items:
            if item.category == "phone" and item.item_id not in returned:
                bought = order.placed_at.date()
                return DeviceHolding(
                    sku=item.sku,
                    name=item.name,
                    order_number=order.order_number,
                    purchased=bought,
                    months_owned=full_months(bought, today),
                )
    return None


def returned_items(order: Order) -> set[int]:
    """Ids of the order's items sent back for a refund (exchanges keep the item)."""
    return {r.item_id for r in order.returns if r.kind == "return" and r.status != "rejected"}


def full_months(start: date, end: date) -> int:
    """Whole calendar months from start to end (0 when end is before start)."""
    months = (end.year - start.year) * 12 + end.month - start.month - int(end.day < start.day)
    return max(0, months)


def timeline(history: CustomerHistory | None, orders: CustomerOrders | None) -> list[TimelineEntry]:
    """Interactions, verifications and purchases on one clock, newest first."""
    out: list[TimelineEntry] = []
    for i in history.interactions if history else []:
        out.append(
            TimelineEntry(
                at=i.started_at,
                channel=i.channel,
                kind="interaction",
                summary=f"{i.topic}: {i.notes}",
                outcome=i.outcome,
                source=f"crm:{i.interaction_id}",
            )
        )
    for v in history.verifications if history else []:
        out.append(
            TimelineEntry(
                at=v.at,
                channel=v.channel,
                kind="verification",
                summary=f"identity check by {v.method.replace('_', ' ')}",
                outcome=v.result,
                source=f"crm:{v.verification_id}",
            )
        )
    for o in orders.orders if orders else []:
        what = ", ".join(i.name for i in o.items)
        where = o.store or "online shop"
        out.append(
            TimelineEntry(
                at=o.placed_at,
                channel="store" if o.channel == "store" else "web",
                kind="purchase",
                summary=f"{what} at {where}, {o.total:.2f}",
                outcome=o.status,
                source=f"orders:{o.order_number}",
            )
        )
    return sorted(out, key=lambda e: e.at, reverse=True)
