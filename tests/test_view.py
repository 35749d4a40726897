"""The unified view: the stories' facts in one document, and graceful degradation per system."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tests.conftest import TODAY
from tools.base import Systems
from tools.calls import Caller
from tools.demo.stories import DANIEL, MARGARET, PRIYA, RICK, last_due
from tools.errors import NotFound
from tools.rest import rest_systems
from tools.services import start_services
from tools.sql import sql_systems
from tools.view import customer_360

pytestmark = pytest.mark.anyio


def patient() -> Caller:
    """These tests check facts, not timeouts: a cold read on a loaded two-worker run can take
    longer than the 2 s default, which would show a healthy system as unavailable."""
    return Caller(timeout_s=30.0)


async def test_past_due_with_expired_autopay_and_overage(systems: Systems) -> None:
    view = await customer_360(systems, MARGARET, caller=patient(), today=TODAY)
    assert view.profile.status == "ok" and view.profile.data is not None
    [acct] = view.billing.data or []
    assert acct.past_due is not None
    assert acct.past_due.late_fees == 15.0
    # Due on the 21st, the billing calendar the knowledge base describes; late since the 22nd.
    assert acct.past_due.due_date == last_due(TODAY) and acct.past_due.due_date.day == 21
    assert acct.past_due.days_past_due == (TODAY - last_due(TODAY)).days
    assert acct.autopay.status == "failed" and acct.autopay.card_expired
    assert acct.autopay.last_failure_reason == "card_expired"
    assert acct.autopay.card == "Visa ending 4417"
    assert acct.usage[0].overage_months == 3 and acct.usage[0].allowance_gb == 15.0
    notice = view.timeline[0]
    assert notice.channel == "email" and "past due" in notice.summary


async def test_store_purchase_without_receipt_is_returnable(systems: Systems) -> None:
    view = await customer_360(systems, DANIEL, caller=patient(), today=TODAY)
    assert view.orders.data is not None
    jacket = view.orders.data.recent_purchases[0]
    assert jacket.order.store == "Brightwave Store Riverside Mall"
    assert not jacket.order.receipt_issued
    [item] = jacket.items
    assert item.eligible and not item.receipt_required
    assert item.return_until == TODAY - timedelta(days=14) + timedelta(days=30)
    assert "card last four" in item.policy
    assert view.timeline[0].kind == "purchase"


async def test_journey_shows_todays_ivr_and_chatbot_attempts(systems: Systems) -> None:
    view = await customer_360(systems, PRIYA, caller=patient(), today=TODAY)
    today = [e for e in view.timeline if e.at.date() == TODAY and e.kind == "interaction"]
    assert [e.channel for e in today] == ["chatbot", "ivr"]
    assert {e.outcome for e in today} == {"abandoned", "self_service_failed"}


async def test_angry_customer_history_carries_the_threat(systems: Systems) -> None:
    view = await customer_360(systems, RICK, caller=patient(), today=TODAY)
    notes = " ".join(e.summary for e in view.timeline)
    assert "Zephyr Mobile" in notes and "supervisor" in notes


async def test_unknown_customer_is_not_found(systems: Systems) -> None:
    with pytest.raises(NotFound):
        await customer_360(systems, "CUS-0999999", caller=patient(), today=TODAY)


async def test_every_call_is_recorded_with_masked_arguments(systems: Systems) -> None:
    # What is recorded, not how fast: the 2 s default timed a cold SQLite read out once, on a
    # fresh clone's busy two-worker run.
    caller = patient()
    view = await customer_360(systems, MARGARET, caller=caller, today=TODAY)
    assert {(c.system, c.operation) for c in view.tool_calls} == {
        ("crm", "get_profile"),
        ("crm", "get_history"),
        ("billing", "get_customer_billing"),
        ("orders", "get_customer_orders"),
    }
    assert all(c.outcome in ("ok", "empty") and c.latency_ms >= 0 for c in view.tool_calls)
    assert view.tool_calls == caller.calls


async def test_a_dead_system_degrades_only_its_section(data_dir: Path) -> None:
    sql = sql_systems(data_dir)
    dead = rest_systems(
        {
            "crm": "http://127.0.0.1:9",
            "billing": "http://127.0.0.1:9",
            "orders": "http://127.0.0.1:9",
        },
        retries=1,
        backoff_s=0.01,
    )
    mixed = Systems(crm=sql.crm, billing=sql.billing, orders=dead.orders)
    view = await customer_360(mixed, DANIEL, caller=patient(), today=TODAY)
    assert view.profile.status == "ok" and view.billing.status == "ok"
    assert view.orders.status == "unavailable" and view.orders.data is None
    assert view.orders.error and "orders" in view.orders.error
    assert [c.outcome for c in view.tool_calls if c.system == "orders"] == ["error"]
    await dead.aclose()


async def test_a_slow_system_times_out_without_holding_the_view(data_dir: Path) -> None:
    sql = sql_systems(data_dir)
    with start_services(data_dir, latency_ms=2000) as slow:
        rest = rest_systems(slow.urls, timeout_s=5.0)
        mixed = Systems(crm=sql.crm, billing=rest.billing, orders=sql.orders)
        view = await customer_360(mixed, MARGARET, caller=Caller(timeout_s=0.3), today=TODAY)
        await rest.aclose()
    assert view.billing.status == "unavailable"
    assert view.billing.error is not None and "0.3 s" in view.billing.error
    assert view.billing.latency_ms < 1000
    assert view.profile.status == "ok" and view.orders.status == "ok"
