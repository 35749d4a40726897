"""Which catalogue offers fit a customer, judged only on the unified view's data, with citations.

A rule whose section of the view is unavailable is not guessed: the offer is skipped and the
skip says which system was missing. Line rules (usage, plan, add-ons, device) hold on one line.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from pydantic import BaseModel, Field

from copilot.offers.catalogue import (
    Catalogue,
    DataOverage,
    DeviceAge,
    Offer,
    OfferKind,
    Price,
    RecentPurchase,
    Rules,
)
from tools.models import Line
from tools.view import (
    AccountSummary,
    Customer360,
    LineUsage,
    OrdersSummary,
    full_months,
    returned_items,
)

SectionName = Literal["profile", "billing", "orders"]
# The tool call each section of the view comes from: (system, operation).
SECTION_CALLS: dict[SectionName, tuple[str, str]] = {
    "profile": ("crm", "get_profile"),
    "billing": ("billing", "get_customer_billing"),
    "orders": ("orders", "get_customer_orders"),
}
LINE_RULES = {"data_overage", "device_age", "plan_in", "plan_not_in", "addon_in"}
_BILLING: frozenset[SectionName] = frozenset({"billing"})


class OfferMatch(BaseModel):
    """An offer whose rules hold for this customer, with the data that says so."""

    offer_id: str
    title: str
    kind: OfferKind
    score: float
    why: str = Field(description="one line citing the customer's data")
    plan_code: str | None = None
    sku: str | None = None
    price: Price | None = None
    line_id: str | None = Field(None, description="the line the offer is about, if any")
    sections: list[SectionName] = Field(description="view sections the rules read")
    evidence: list[str] = Field(description="ToolCall ids of the systems behind those sections")


class OfferSkip(BaseModel):
    """An offer that does not apply, and why; `missing_data` when a section was unavailable."""

    offer_id: str
    reason: str
    missing_data: bool = False


class Assessment(BaseModel):
    """Every catalogue offer, either matched or skipped with a reason."""

    matches: list[OfferMatch] = Field(description="score descending, then id")
    skipped: list[OfferSkip]


def assess(catalogue: Catalogue, view: Customer360, today: date) -> Assessment:
    """Check every offer against the view: the ones that apply, and why the others do not."""
    candidates = [_Context(view, today, None, None)]
    if view.billing.status == "ok" and view.billing.data:
        lines = [
            _Context(view, today, line, _usage(acct, line.line_id))
            for acct in view.billing.data
            for line in acct.account.lines
            if line.status == "active"
        ]
        candidates = lines or candidates
    matches: list[OfferMatch] = []
    skipped: list[OfferSkip] = []
    for offer in catalogue.offers:
        result = _first_match(offer, candidates)
        if isinstance(result, OfferMatch):
            matches.append(result)
        else:
            skipped.append(result)
    return Assessment(matches=sorted(matches, key=rank), skipped=skipped)


def eligible(catalogue: Catalogue, view: Customer360, today: date) -> list[OfferMatch]:
    """The offers whose rules all hold and no exclusion applies, best first."""
    return assess(catalogue, view, today).matches


def rank(match: OfferMatch) -> tuple[float, str]:
    """Sort key: higher score first, then offer id."""
    return (-match.score, match.offer_id)


class _Missing(Exception):
    def __init__(self, section: SectionName) -> None:
        super().__init__(section)
        self.section = section


@dataclass(frozen=True)
class _Fact:
    holds: bool
    text: str
    sections: frozenset[SectionName]


@dataclass(frozen=True)
class _Context:
    view: Customer360
    today: date
    line: Line | None
    usage: LineUsage | None


def _first_match(offer: Offer, candidates: list[_Context]) -> OfferMatch | OfferSkip:
    reason = "no rule held"
    for n, ctx in enumerate(candidates):
        try:
            facts = _facts(offer.rules, ctx)
            failed = next((f for f in facts.values() if not f.holds), None)
            exclusions = _facts(offer.exclude_if, ctx) if failed is None else {}
        except _Missing as exc:
            why = f"{exc.section} unavailable: the offer's rules cannot be checked"
            return OfferSkip(offer_id=offer.id, reason=why, missing_data=True)
        excluded = next((f for f in exclusions.values() if f.holds), None)
        if failed is None and excluded is None:
            return _match(offer, ctx, facts, exclusions)
        if n == 0:
            reason = failed.text if failed else f"excluded: {excluded.text if excluded else ''}"
    return OfferSkip(offer_id=offer.id, reason=reason)


def _match(
    offer: Offer, ctx: _Context, facts: dict[str, _Fact], exclusions: dict[str, _Fact]
) -> OfferMatch:
    cited = {kind: f.text for kind, f in facts.items()}
    why = offer.why.format(facts="; ".join(cited.values()), **cited)
    used = {s for f in (*facts.values(), *exclusions.values()) for s in f.sections}
    sections = [s for s in SECTION_CALLS if s in used]
    calls = {SECTION_CALLS[s] for s in sections}
    on_line = LINE_RULES & {*offer.rules.kinds(), *offer.exclude_if.kinds()}
    return OfferMatch(
        offer_id=offer.id,
        title=offer.title,
        kind=offer.kind,
        score=offer.score,
        why=why if why[:2].lower() == "ip" else why[:1].upper() + why[1:],
        plan_code=offer.plan_code,
        sku=offer.sku,
        price=offer.price,
        line_id=ctx.line.line_id if ctx.line and on_line else None,
        sections=sections,
        evidence=[c.id for c in ctx.view.tool_calls if (c.system, c.operation) in calls],
    )


def _facts(rules: Rules, ctx: _Context) -> dict[str, _Fact]:
    out: dict[str, _Fact] = {}
    if rules.data_overage:
        out["data_overage"] = _data_overage(rules.data_overage, ctx)
    if rules.device_age:
        out["device_age"] = _device_age(rules.device_age, ctx)
    if rules.plan_in:
        out["plan_in"] = _plan(ctx, rules.plan_in, inside=True)
    if rules.plan_not_in:
        out["plan_not_in"] = _plan(ctx, rules.plan_not_in, inside=False)
    if rules.addon_in:
        out["addon_in"] = _addon_in(rules.addon_in, ctx)
    if rules.no_past_due:
        out["no_past_due"] = _no_past_due(ctx)
    if rules.tier_in:
        out["tier_in"] = _profile_in(ctx, "tier", list(rules.tier_in))
    if rules.segment_in:
        out["segment_in"] = _profile_in(ctx, "segment", list(rules.segment_in))
    if rules.recent_purchase_category:
        out["recent_purchase_category"] = _recent_purchase(rules.recent_purchase_category, ctx)
    return out


# --- the rule kinds --------------------------------------------------------------------------


def _data_overage(spec: DataOverage, ctx: _Context) -> _Fact:
    line, usage = _line(ctx)
    if line is None or usage is None:
        return _Fact(False, "no active line", _BILLING)
    who = f"Line {masked(line.msisdn)}"
    if usage.allowance_gb is None:
        return _Fact(False, f"{who} has unlimited data", _BILLING)
    window = usage.recent[: spec.of_last]
    over = [(month, gb) for month, gb in window if gb > usage.allowance_gb]
    allowance = f"{usage.allowance_gb:g} GB allowance"
    if not over:
        text = f"{who} stayed within its {allowance} in the last {_months(len(window))}"
        return _Fact(False, text, _BILLING)
    holds = len(over) >= spec.min_months and len(over) <= (spec.max_months or spec.of_last)
    used = ", ".join(f"{gb:.1f}" for _, gb in over)
    months = ", ".join(month for month, _ in over)
    span = f"over in {len(over)} of the last {_months(len(window))}"
    return _Fact(
        holds, f"{who} used {used} GB in {months} against a {allowance} ({span})", _BILLING
    )


def _device_age(spec: DeviceAge, ctx: _Context) -> _Fact:
    device = _orders(ctx.view).last_device
    if device is not None:
        age = full_months(device.purchased, ctx.today)
        text = (
            f"{device.name} bought {device.purchased:%Y-%m} (order {device.order_number}), "
            f"{_months(age) + ' ago' if age else 'under a month ago'}"
        )
        return _Fact(age >= spec.min_months, text, frozenset({"orders"}))
    # No phone bought from us: the phone that came with the line is as old as the line.
    line, _ = _line(ctx)
    both: frozenset[SectionName] = frozenset({"orders", "billing"})
    if line is None:
        return _Fact(False, "no phone bought and no active line", both)
    age = full_months(line.activated_at, ctx.today)
    text = (
        f"Line {masked(line.msisdn)} active since {line.activated_at:%Y-%m} "
        f"({_months(age)}), no phone bought since"
    )
    return _Fact(age >= spec.min_months, text, both)


def _plan(ctx: _Context, codes: list[str], *, inside: bool) -> _Fact:
    line, _ = _line(ctx)
    if line is None:
        return _Fact(False, "no active line", _BILLING)
    text = f"Line {masked(line.msisdn)} is on {line.plan.name} ({line.plan.plan_code})"
    return _Fact((line.plan.plan_code in codes) == inside, text, _BILLING)


def _addon_in(codes: list[str], ctx: _Context) -> _Fact:
    line, _ = _line(ctx)
    if line is None:
        return _Fact(False, "no active line", _BILLING)
    have = [a.name for a in line.addons if a.plan_code in codes]
    who = f"Line {masked(line.msisdn)}"
    if have:
        return _Fact(True, f"{who} already has {', '.join(have)}", _BILLING)
    return _Fact(False, f"{who} has no {' or '.join(codes)} add-on", _BILLING)


def _no_past_due(ctx: _Context) -> _Fact:
    due = [a.past_due for a in _billing(ctx.view) if a.past_due is not None]
    if not due:
        return _Fact(True, "no bill past due", _BILLING)
    worst = max(due, key=lambda d: d.days_past_due)
    text = f"invoice {worst.invoice_id} ({worst.amount:.2f}) is {worst.days_past_due} days past due"
    return _Fact(False, text, _BILLING)


def _profile_in(ctx: _Context, attr: Literal["tier", "segment"], allowed: list[str]) -> _Fact:
    profile = ctx.view.profile.data
    if ctx.view.profile.status != "ok" or profile is None:
        raise _Missing("profile")
    value = profile.tier if attr == "tier" else profile.segment
    text = f"{value.replace('_', ' ')} {attr} customer"
    return _Fact(value in allowed, text, frozenset({"profile"}))


def _recent_purchase(spec: RecentPurchase, ctx: _Context) -> _Fact:
    since = ctx.today - timedelta(days=spec.within_days)
    purchases = sorted(
        _orders(ctx.view).recent_purchases, key=lambda p: p.order.placed_at, reverse=True
    )
    for purchase in purchases:
        order = purchase.order
        bought = order.placed_at.date()
        if bought < since or order.status in {"cancelled", "returned"}:
            continue
        kept = [i for i in order.items if i.item_id not in returned_items(order)]
        for item in kept:
            if item.category == spec.category:
                days = (ctx.today - bought).days
                text = f"{item.name} bought {bought} (order {order.order_number}, {days} days ago)"
                return _Fact(True, text, frozenset({"orders"}))
    text = f"no {spec.category} bought in the last {spec.within_days} days"
    return _Fact(False, text, frozenset({"orders"}))


# --- reading the view ------------------------------------------------------------------------


def _billing(view: Customer360) -> list[AccountSummary]:
    if view.billing.status != "ok" or view.billing.data is None:
        raise _Missing("billing")
    return view.billing.data


def _orders(view: Customer360) -> OrdersSummary:
    if view.orders.status != "ok":
        raise _Missing("orders")
    # The system answered with nothing: a customer without orders, not missing data.
    return view.orders.data or OrdersSummary(open_orders=[], recent_purchases=[])


def _line(ctx: _Context) -> tuple[Line | None, LineUsage | None]:
    _billing(ctx.view)
    return ctx.line, ctx.usage


def _usage(account: AccountSummary, line_id: str) -> LineUsage | None:
    return next((u for u in account.usage if u.line_id == line_id), None)


def masked(msisdn: str) -> str:
    """A phone number as the panel may show it: the last four digits."""
    return f"****{msisdn[-4:]}"


def _months(n: int) -> str:
    return f"{n} month" if n == 1 else f"{n} months"
