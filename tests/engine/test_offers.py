"""Offers over the real demo systems: eligibility that cites the data, the gate, the ledger."""

from __future__ import annotations

import asyncio
import fnmatch
import sqlite3
import tomllib
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from copilot.event_log import SessionStore
from copilot.offers import (
    DEFAULT_PATH,
    Catalogue,
    OfferHistory,
    OfferLedger,
    OfferMatch,
    assess,
    choose,
    eligible,
    load_default,
)
from tests.conftest import TODAY
from tools.demo.catalogue import PLANS, PRODUCTS
from tools.demo.stories import DANIEL, MARGARET, PRIYA, RICK, TOM
from tools.errors import InvalidInput
from tools.models import UsageMonth
from tools.sql import sql_systems
from tools.view import Customer360, DeviceHolding, Section, customer_360, summarize_account

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def views(data_dir: Path) -> dict[str, Customer360]:
    """The story customers' unified views, read once from the generated SQLite systems."""
    systems = sql_systems(data_dir)

    async def read() -> dict[str, Customer360]:
        ids = (MARGARET, DANIEL, PRIYA, RICK, TOM)
        return {cid: await customer_360(systems, cid, today=TODAY) for cid in ids}

    return asyncio.run(read())


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_default()


def ids(matches: list[OfferMatch]) -> list[str]:
    return [m.offer_id for m in matches]


def months_back(n: int) -> date:
    """The day exactly n months before TODAY (day clamped so every month has it)."""
    total = TODAY.year * 12 + TODAY.month - 1 - n
    return date(total // 12, total % 12 + 1, min(TODAY.day, 28))


def with_usage(view: Customer360, newest_first: list[float]) -> Customer360:
    """The view with its first line's monthly data usage replaced (months kept)."""
    assert view.billing.data
    account = view.billing.data[0].account
    line = account.lines[0]
    usage = [
        UsageMonth(month=u.month, data_gb=gb, voice_minutes=u.voice_minutes)
        for u, gb in zip(line.usage, newest_first, strict=False)
    ]
    changed = account.model_copy(update={"lines": [line.model_copy(update={"usage": usage})]})
    billing = view.billing.model_copy(update={"data": [summarize_account(changed, TODAY)]})
    return view.model_copy(update={"billing": billing})


def with_device(view: Customer360, purchased: date) -> Customer360:
    assert view.orders.data is not None
    device = DeviceHolding(
        sku="PH-PX10",
        name="Pixel 10 128 GB",
        order_number="W100000999",
        purchased=purchased,
        months_owned=0,
    )
    orders = view.orders.data.model_copy(update={"last_device": device})
    return view.model_copy(update={"orders": view.orders.model_copy(update={"data": orders})})


def unavailable(view: Customer360, section: str) -> Customer360:
    down = Section[object](
        system=section, status="unavailable", error=f"{section}: no answer", latency_ms=2000.0
    )
    return view.model_copy(update={section: down})


# --- eligibility on the real data --------------------------------------------------------------


def test_margaret_is_offered_unlimited_citing_her_usage(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    view = views[MARGARET]
    result = assess(catalogue, view, TODAY)
    top = result.matches[0]
    assert top.offer_id == "unlimited-upgrade" and top.plan_code == "UNL"
    months = [m for m, _ in view.billing.data[0].usage[0].recent] if view.billing.data else []
    # Her last three months, newest first, are 19.4, 12.9 and 18.6 GB on a 15 GB plan.
    assert top.why.startswith(
        f"Line ****0101 used 19.4, 18.6 GB in {months[0]}, {months[2]} against a 15 GB allowance "
        "(over in 2 of the last 3 months)"
    )
    assert "+14155550101" not in top.why and "$75.00" in top.why
    billing_call = [c.id for c in view.tool_calls if c.system == "billing"]
    assert top.sections == ["billing"] and top.evidence == billing_call
    assert top.line_id == "L90000010"
    # Past due: no phone financing; and 2 over months is not the one-month data boost.
    skipped = {s.offer_id: s.reason for s in result.skipped}
    assert "past due" in skipped["device-upgrade"]
    assert "data-boost" in skipped and "device-upgrade" not in ids(result.matches)


def test_customer_already_on_unlimited_is_not_offered_it(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    result = assess(catalogue, views[PRIYA], TODAY)
    assert "unlimited-upgrade" not in ids(result.matches)
    reason = next(s.reason for s in result.skipped if s.offer_id == "unlimited-upgrade")
    assert reason == "Line ****0103 has unlimited data"


def test_family_customer_gets_the_extra_line_offer(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    [extra] = [m for m in eligible(catalogue, views[TOM], TODAY) if m.offer_id.startswith("fam")]
    assert extra.why.startswith("Family segment customer; a Plus 15 GB line")
    assert extra.sections == ["profile", "billing"] and extra.line_id is None
    assert "family-extra-line" not in ids(eligible(catalogue, views[DANIEL], TODAY))


def test_one_month_over_gets_the_data_boost_not_unlimited(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    view = with_usage(views[MARGARET], [12.0, 16.4, 14.9, 30.0])
    matches = eligible(catalogue, view, TODAY)
    assert "unlimited-upgrade" not in ids(matches)
    [boost] = [m for m in matches if m.offer_id == "data-boost"]
    assert "used 16.4 GB in" in boost.why and "(over in 1 of the last 3 months)" in boost.why
    # Usage exactly at the allowance is not over it.
    at_limit = with_usage(views[MARGARET], [15.0, 15.0, 15.0, 15.0])
    assert not {"data-boost", "unlimited-upgrade"} & set(ids(eligible(catalogue, at_limit, TODAY)))


def test_last_device_comes_from_all_fetched_orders(data_dir: Path) -> None:
    """A phone bought months ago (outside the 90-day purchase list) is the customer's device."""
    with sqlite3.connect(data_dir / "orders.db") as db:
        row = db.execute(
            """
            SELECT o.customer_ref, o.order_number, i.sku, o.purchase_date
            FROM orders o JOIN order_items i ON i.order_number = o.order_number
            WHERE i.category = 'phone' AND o.customer_ref IS NOT NULL
              AND o.status NOT IN ('cancelled', 'returned')
              AND o.purchase_date < ?
              AND NOT EXISTS (SELECT 1 FROM returns r WHERE r.order_number = o.order_number)
              AND NOT EXISTS (
                SELECT 1 FROM orders o2 JOIN order_items i2 ON i2.order_number = o2.order_number
                WHERE o2.customer_ref = o.customer_ref AND i2.category = 'phone'
                  AND o2.placed_at > o.placed_at)
            ORDER BY o.customer_ref LIMIT 1
            """,
            ((TODAY - timedelta(days=120)).isoformat(),),
        ).fetchone()
    assert row is not None, "the generated data has old phone purchases"
    cid, order_number, sku, purchased = row
    view = asyncio.run(customer_360(sql_systems(data_dir), cid, today=TODAY))
    assert view.orders.data is not None
    device = view.orders.data.last_device
    assert device is not None and (device.order_number, device.sku) == (order_number, sku)
    assert device.purchased == date.fromisoformat(purchased) and device.months_owned >= 3
    assert order_number not in {p.order.order_number for p in view.orders.data.recent_purchases}


def test_device_age_counts_full_months_and_falls_back_to_the_line(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    daniel = views[DANIEL]  # no phone ever bought; his line is about three years old
    [upgrade] = [m for m in eligible(catalogue, daniel, TODAY) if m.offer_id == "device-upgrade"]
    line = daniel.billing.data[0].account.lines[0] if daniel.billing.data else None
    assert line is not None
    assert upgrade.why.startswith(
        f"Line ****0102 active since {line.activated_at:%Y-%m} ("
    ) and upgrade.why.endswith("months), no phone bought since; the Galaxy S25 128 GB is $799.00")
    assert upgrade.sections == ["billing", "orders"] and len(upgrade.evidence) == 2

    exactly = eligible(catalogue, with_device(daniel, months_back(30)), TODAY)
    [m] = [m for m in exactly if m.offer_id == "device-upgrade"]
    assert "Pixel 10 128 GB bought" in m.why and "30 months ago" in m.why
    assert m.sections == ["billing", "orders"]  # orders for the phone, billing for no_past_due
    younger = assess(catalogue, with_device(daniel, months_back(29)), TODAY)
    assert "device-upgrade" not in ids(younger.matches)
    reason = next(s.reason for s in younger.skipped if s.offer_id == "device-upgrade")
    assert reason.endswith("29 months ago")


def test_unavailable_section_means_no_offer_and_says_so(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    result = assess(catalogue, unavailable(views[MARGARET], "billing"), TODAY)
    assert result.matches == []
    skipped = {s.offer_id: s for s in result.skipped}
    assert skipped["unlimited-upgrade"].missing_data
    assert skipped["unlimited-upgrade"].reason.startswith("billing unavailable")
    # The accessory offer reads only orders: it is judged (and does not apply), not skipped.
    assert not skipped["accessory-protection"].missing_data

    no_orders = assess(catalogue, unavailable(views[DANIEL], "orders"), TODAY)
    assert "device-upgrade" not in ids(no_orders.matches)  # a phone bought is unknowable
    assert next(s for s in no_orders.skipped if s.offer_id == "device-upgrade").missing_data


# --- the gate ------------------------------------------------------------------------------------


def test_angry_customer_gets_no_offer(views: dict[str, Customer360], catalogue: Catalogue) -> None:
    matches = eligible(catalogue, views[RICK], TODAY)
    assert matches, "Rick is eligible for something; only the gate holds it back"
    history = OfferHistory(session_id="r1")
    decision = choose(matches, mood_label="negative", issue_resolved=True, history=history)
    assert decision.offer is None and decision.held_back == "customer mood is negative"


def test_gate_waits_for_a_resolved_issue_and_a_calm_customer(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    matches = eligible(catalogue, views[MARGARET], TODAY)
    history = OfferHistory(session_id="m1")
    open_issue = choose(matches, mood_label="positive", issue_resolved=False, history=history)
    assert open_issue.offer is None and open_issue.held_back == "issue still open"
    happy = choose(matches, mood_label="positive", issue_resolved=True, history=history)
    assert happy.offer is not None and happy.offer.offer_id == "unlimited-upgrade"
    assert not happy.already_shown and happy.held_back is None
    nothing = choose([], mood_label="neutral", issue_resolved=True, history=history)
    assert nothing.offer is None and nothing.held_back == "no offer fits this customer's data"


def test_one_offer_at_a_time_and_no_repeat_after_an_answer(
    views: dict[str, Customer360], catalogue: Catalogue
) -> None:
    matches = eligible(catalogue, views[TOM], TODAY)
    first, second = ids(matches)[:2]
    history = OfferHistory(session_id="t1")
    assert history.record(first, "shown", "e1", T0)
    assert not history.record(first, "shown", "e2", T0)  # idempotent per offer and status
    kept = choose(matches, mood_label="neutral", issue_resolved=True, history=history)
    assert kept.offer is not None and kept.offer.offer_id == first and kept.already_shown
    rest = [m for m in matches if m.offer_id != first]
    waiting = choose(rest, mood_label="neutral", issue_resolved=True, history=history)
    assert (
        waiting.offer is None
        and waiting.held_back == f"offer {first} is still waiting for an answer"
    )

    history.record(first, "dismissed", "e3", T0 + timedelta(seconds=5))
    assert history.pending() is None and history.answered() == {first: "dismissed"}
    nxt = choose(matches, mood_label="neutral", issue_resolved=True, history=history)
    assert nxt.offer is not None and nxt.offer.offer_id == second and not nxt.already_shown
    only_first = [m for m in matches if m.offer_id == first]
    again = choose(only_first, mood_label="neutral", issue_resolved=True, history=history)
    assert (
        again.offer is None
        and again.held_back == f"already answered this session: {first} dismissed"
    )


# --- the catalogue -------------------------------------------------------------------------------


def test_default_catalogue_uses_real_plans_and_products(catalogue: Catalogue) -> None:
    plans = {p[0] for p in PLANS}
    skus = {p[0] for p in PRODUCTS}
    assert len(catalogue.offers) >= 5
    for offer in catalogue.offers:
        assert offer.plan_code is None or offer.plan_code in plans, offer.id
        assert offer.sku is None or offer.sku in skus, offer.id
    assert {o.kind for o in catalogue.offers} == {"upsell", "cross_sell"}


def test_every_default_offer_shows_the_price_the_systems_charge(catalogue: Catalogue) -> None:
    monthly = {p[0]: p[3] for p in PLANS}
    once = {p[0]: p[3] for p in PRODUCTS}
    for offer in catalogue.offers:
        assert offer.price is not None, offer.id
        if offer.plan_code:
            assert (offer.price.amount, offer.price.per) == (monthly[offer.plan_code], "month")
        elif offer.id == "accessory-protection":  # the protector and the case together
            assert offer.price.amount == pytest.approx(once["AC-GLAS"] + once["AC-CASE"])
        else:
            assert offer.sku and (offer.price.amount, offer.price.per) == (once[offer.sku], "once")


def test_default_catalogue_ships_as_package_data() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    globs = config["tool"]["setuptools"]["package-data"]["copilot"]
    relative = DEFAULT_PATH.relative_to(ROOT / "copilot").as_posix()
    assert any(fnmatch.fnmatch(relative, g) for g in globs)


GOOD = """
offers:
  - id: big-data
    title: Move to Unlimited
    kind: upsell
    score: 0.9
    rules:
      data_overage: {min_months: 2, of_last: 3}
    why: "{data_overage}"
"""


def test_good_catalogue_loads(tmp_path: Path) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(GOOD)
    [offer] = Catalogue.load(path).offers
    assert offer.id == "big-data" and offer.exclude_if.kinds() == []


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("offers: [\n  - id: x\n", "not valid YAML"),
        (GOOD.replace("data_overage: {", "data_overag: {"), "rules.data_overag: unknown rule kind"),
        (
            GOOD.replace("    title: Move to Unlimited\n", ""),
            "offer 'big-data': title: Field required",
        ),
        (GOOD.replace("score: 0.9", "score: 1.5"), "offer 'big-data': score: Input should be less"),
        (GOOD + GOOD.removeprefix("\noffers:\n"), "offer 'big-data': id: duplicate offer id"),
        (GOOD.replace("of_last: 3", "of_last: 1"), "rules.data_overage: min_months cannot exceed"),
        (GOOD.replace('"{data_overage}"', '"{device_age}"'), "why: placeholder {device_age}"),
        (GOOD.replace("kind: upsell", "kind: bundle"), "offer 'big-data': kind: Input should be"),
        (
            GOOD.replace("    rules:", "    price: {amount: 75, per: week}\n    rules:"),
            "offer 'big-data': price.per: Input should be 'month' or 'once'",
        ),
        ("offers: {}", "needs a top-level 'offers' list"),
    ],
)
def test_bad_catalogue_names_file_offer_and_field(tmp_path: Path, text: str, expected: str) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        Catalogue.load(path)
    assert str(path) in caught.value.message and expected in caught.value.message
    assert "Traceback" not in caught.value.message


def test_custom_catalogue_with_profile_rules(tmp_path: Path, views: dict[str, Customer360]) -> None:
    path = tmp_path / "offers.yaml"
    path.write_text(
        """
offers:
  - id: loyal-premium
    title: Unlimited Premium for loyal customers
    kind: upsell
    score: 0.3
    plan_code: UNL-PREM
    rules: {tier_in: [gold, platinum], plan_in: [UNL]}
    why: "{tier_in}, {plan_in}"
"""
    )
    catalogue = Catalogue.load(path)
    [m] = eligible(catalogue, views[PRIYA], TODAY)
    assert m.why == "Gold tier customer, Line ****0103 is on Unlimited (UNL)"
    assert m.sections == ["profile", "billing"]
    assert eligible(catalogue, views[RICK], TODAY) == []  # silver
    assert eligible(catalogue, unavailable(views[PRIYA], "profile"), TODAY) == []


# --- the ledger ----------------------------------------------------------------------------------


def test_ledger_is_idempotent_and_survives_a_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'copilot.db'}"
    SessionStore(url)  # the offer table lives beside the session log
    ledger = OfferLedger(url)
    assert ledger.record("s1", MARGARET, "unlimited-upgrade", "shown", "e4", T0)
    assert not ledger.record("s1", MARGARET, "unlimited-upgrade", "shown", "e5", T0)
    later = T0 + timedelta(minutes=1)
    assert ledger.record("s1", MARGARET, "unlimited-upgrade", "accepted", "e6", later)
    assert ledger.record("s2", TOM, "unlimited-upgrade", "shown", "e1", T0)
    assert ledger.record("s2", TOM, "family-extra-line", "dismissed", "e2", later)
    ledger.close()

    again = OfferLedger(url)
    history = again.history("s1")
    assert [(e.offer_id, e.status, e.event_id) for e in history.events] == [
        ("unlimited-upgrade", "shown", "e4"),
        ("unlimited-upgrade", "accepted", "e6"),
    ]
    assert history.events[1].at == later and history.pending() is None
    stats = {s.offer_id: s for s in again.stats()}
    assert (stats["unlimited-upgrade"].shown, stats["unlimited-upgrade"].accepted) == (2, 1)
    assert stats["unlimited-upgrade"].acceptance_rate == 0.5
    assert stats["family-extra-line"].dismissed == 1
    assert stats["family-extra-line"].acceptance_rate is None
    assert again.history("nobody").events == []
    again.close()
