"""One contract suite, run against the SQL and the REST backend alike."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import TODAY
from tools.base import Systems
from tools.demo.stories import ANNA, DANIEL, JACKET_TOTAL, MARGARET, PRIYA, TOM
from tools.rest import rest_systems
from tools.services import RunningServices
from tools.sql import sql_systems

pytestmark = pytest.mark.anyio


async def test_profile_of_a_story_customer(systems: Systems) -> None:
    profile = await systems.crm.get_profile(MARGARET)
    assert profile is not None
    assert profile.full_name == "Margaret Chen"
    assert profile.tier == "platinum"
    assert (TODAY - profile.customer_since).days > 10 * 365
    kinds = {(c.kind, c.normalized) for c in profile.contacts}
    assert ("phone", "+14155550101") in kinds
    assert ("email", "margaret.chen@example.net") in kinds
    assert profile.addresses[0].postal_code == "94110"


async def test_unknown_customer_is_none_not_an_error(systems: Systems) -> None:
    assert await systems.crm.get_profile("CUS-0999999") is None
    history = await systems.crm.get_history("CUS-0999999")
    assert history.interactions == [] and history.verifications == []
    assert await systems.billing.get_customer_billing("CUS-0999999") == []
    assert (await systems.orders.get_customer_orders("CUS-0999999")).orders == []


async def test_history_is_newest_first_across_channels(systems: Systems) -> None:
    history = await systems.crm.get_history(PRIYA)
    channels = [i.channel for i in history.interactions]
    assert channels[:2] == ["chatbot", "ivr"]
    assert all(i.started_at.date() == TODAY for i in history.interactions[:2])
    times = [i.started_at for i in history.interactions]
    assert times == sorted(times, reverse=True)
    assert {v.method for v in history.verifications} == {"pin", "otp_sms"}


async def test_contact_lookup_returns_every_owner(systems: Systems) -> None:
    refs = await systems.crm.find_by_contact("phone", "+14255550104")
    assert [r.customer_id for r in refs] == [TOM, ANNA]
    assert await systems.crm.find_by_contact("email", "nobody@example.com") == []
    by_name = await systems.crm.find_by_name_postal("margaret chen", "94110")
    assert [r.customer_id for r in by_name] == [MARGARET]
    refs = await systems.crm.get_refs([ANNA, MARGARET])
    assert [r.full_name for r in refs] == ["Margaret Chen", "Anna Becker"]


async def test_billing_of_the_expired_autopay_card(systems: Systems) -> None:
    ref = await systems.billing.find_account("BA90000001")
    assert ref is not None and ref.customer_id == MARGARET
    assert await systems.billing.find_account("BA00000000") is None
    [account] = await systems.billing.get_customer_billing(MARGARET)
    assert account.autopay is not None
    assert account.autopay.status == "failed"
    assert account.autopay.last_failure_reason == "card_expired"
    assert account.invoices[0].status == "past_due"
    assert any(a.kind == "late_fee" for a in account.adjustments)
    plan = account.lines[0].plan
    over = [u for u in account.lines[0].usage[:4] if u.data_gb > (plan.data_gb or 0)]
    assert len(over) == 3


async def test_orders_by_number_and_by_card(systems: Systems) -> None:
    ref = await systems.orders.find_order("S900000201")
    assert ref is not None and ref.customer_id == DANIEL and ref.channel == "store"
    assert await systems.orders.find_order("W000000000") is None
    day = TODAY - timedelta(days=14)
    for offset in (-1, 0, 1):
        found = await systems.orders.find_card_purchases(
            "7319", day + timedelta(days=offset), JACKET_TOTAL
        )
        assert [r.order_number for r in found] == ["S900000201"]
    assert (
        await systems.orders.find_card_purchases("7319", day + timedelta(days=2), JACKET_TOTAL)
        == []
    )
    assert await systems.orders.find_card_purchases("7319", day, JACKET_TOTAL + 1) == []
    orders = await systems.orders.get_customer_orders(DANIEL)
    assert [o.order_number for o in orders.orders] == ["S900000201", "W900000202"]
    assert orders.orders[0].items[0].name == "Brightwave All-Weather Jacket"
    assert not orders.orders[0].receipt_issued
    assert {p.category for p in orders.policies} >= {"apparel", "phone"}


async def test_both_backends_return_identical_records(
    data_dir: object, services: RunningServices
) -> None:
    sql = sql_systems(data_dir)  # type: ignore[arg-type]
    rest = rest_systems(services.urls, token="test-token", timeout_s=5.0)
    ids = [f"CUS-{n:07d}" for n in range(1, 2000, 97)] + [MARGARET, DANIEL, PRIYA]
    for cid in ids:
        assert await sql.crm.get_profile(cid) == await rest.crm.get_profile(cid)
        assert await sql.crm.get_history(cid) == await rest.crm.get_history(cid)
        assert await sql.billing.get_customer_billing(
            cid
        ) == await rest.billing.get_customer_billing(cid)
        assert await sql.orders.get_customer_orders(cid) == await rest.orders.get_customer_orders(
            cid
        )
    await rest.aclose()
