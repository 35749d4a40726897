"""Write actions: each writes what it says once, the 360 shows it, refusals write nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import TypeAdapter, ValidationError
from sqlalchemy import Engine, inspect, select

from copilot.settings import Settings
from copilot.systems import build_systems, with_outage
from tests.conftest import SYSTEMS_TOKEN, TODAY
from tools import schema as s
from tools.actions import (
    ACTION_KINDS,
    ActionRequest,
    ActionSystem,
    ChangePlan,
    PaymentMethodEntry,
    StartReturn,
    TakePayment,
    UpdateAutopay,
    WaiveLateFee,
)
from tools.base import Systems
from tools.demo.stories import DANIEL, MARGARET, PRIYA, RICK, last_due
from tools.errors import InvalidInput, NotFound, SystemUnavailable
from tools.services import RunningServices
from tools.sql import SqlBilling, SqlOrders
from tools.sql.actions import SqlActions, action_log
from tools.view import Customer360, customer_360

TOKEN = SYSTEMS_TOKEN
JACKET_ORDER, JACKET_ITEM = "S900000201", 9_000_002_01
CASE_ORDER, CASE_ITEM = "W900000202", 9_000_002_02
REQUESTS = TypeAdapter(ActionRequest)
UNKNOWN_CARD = "pm_" + "Z" * 24  # well formed, registered nowhere
NEW_CARD_YEAR = TODAY.year + 3
# Her card ran out the month before the autopay attempt of her last bill failed.
_EXPIRED = last_due(TODAY).replace(day=1) - timedelta(days=1)
MARGARET_OLD_CARD = f"Visa ****4417, expired {_EXPIRED:%m}/{_EXPIRED.year % 100:02d}"
MARGARET_NEW_CARD = f"Mastercard ****5678, exp 08/{NEW_CARD_YEAR % 100:02d}"


@pytest.fixture
async def systems(data_copy: Path) -> AsyncIterator[Systems]:
    """The embedded systems over this test's copy of the data (actions write to them)."""
    built = build_systems(Settings(data_dir=data_copy, backend="sql"))
    yield built
    await built.aclose()


def actions_of(systems: Systems) -> SqlActions:
    assert isinstance(systems.actions, SqlActions)
    return systems.actions


def engine(systems: Systems, system: str) -> Engine:
    return actions_of(systems).engines[system]


def snapshot(systems: Systems) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table an action may write, action log included."""
    return rows_of(actions_of(systems).engines)


def rows_of(engines: Mapping[str, Engine]) -> dict[str, list[tuple[Any, ...]]]:
    """snapshot() of the databases behind these engines, e.g. those the services write."""
    out: dict[str, list[tuple[Any, ...]]] = {}
    for system, tables in (
        ("billing", (s.accounts, s.invoices, s.payments, s.autopay_mandates, s.adjustments)),
        ("billing", (s.lines, s.payment_methods)),
        ("orders", (s.returns,)),
    ):
        with engines[system].connect() as conn:
            for table in tables:
                out[table.name] = sorted(tuple(r) for r in conn.execute(select(table)))
            logged = inspect(conn).has_table("action_log")
            rows = conn.execute(select(action_log)).all() if logged else []
            out[f"{system}.action_log"] = [tuple(r) for r in rows]
    return out


def new_card(account_number: str = "BA90000001", **fields: object) -> PaymentMethodEntry:
    """What the secure payment form sends once the customer typed a new card."""
    given = {"brand": "Mastercard", "last4": "5678", "exp_month": 8, "exp_year": NEW_CARD_YEAR}
    return PaymentMethodEntry.model_validate({"account_number": account_number, **given, **fields})


async def new_autopay(
    actions: ActionSystem, account_number: str = "BA90000001", **fields: object
) -> UpdateAutopay:
    """UpdateAutopay on a card registered through the secure payment form just now."""
    card = await actions.register_payment_method(new_card(account_number, **fields))
    return UpdateAutopay(
        kind="update_autopay", account_number=account_number, payment_method=card.token
    )


async def view(systems: Systems, customer_id: str) -> Customer360:
    return await customer_360(systems, customer_id, today=TODAY)


def account_of(found: Customer360, number: str) -> Any:
    assert found.billing.data is not None
    return next(a for a in found.billing.data if a.account.account_number == number)


def autopay(account_number: str, payment_method: str = UNKNOWN_CARD) -> UpdateAutopay:
    return UpdateAutopay(
        kind="update_autopay", account_number=account_number, payment_method=payment_method
    )


def test_requests_are_a_closed_discriminated_set() -> None:
    assert ACTION_KINDS == (
        "update_autopay",
        "take_payment",
        "waive_late_fee",
        "change_plan",
        "start_return",
        "start_exchange",
    )
    parsed = REQUESTS.validate_python(
        {"kind": "start_exchange", "order_number": "W1", "item_id": 1, "reason": "too small"}
    )
    assert isinstance(parsed, StartReturn) and parsed.kind == "start_exchange"
    with pytest.raises(ValidationError):
        REQUESTS.validate_python({"kind": "update_autopay", "account_number": "B", "card": "4111"})
    with pytest.raises(ValidationError):
        StartReturn(kind="start_return", order_number="W1", item_id=1, reason="x" * 301)
    schema = REQUESTS.json_schema()
    assert "discriminator" in schema
    plan = schema["$defs"]["ChangePlan"]
    assert plan["description"] and plan["properties"]["plan_code"]["description"]


@pytest.mark.anyio
async def test_update_autopay_moves_autopay_to_the_new_card_and_leaves_the_bill(
    systems: Systems,
) -> None:
    actions = actions_of(systems)
    before = account_of(await view(systems, MARGARET), "BA90000001")
    assert before.autopay.status == "failed" and before.past_due is not None
    request = (await new_autopay(actions)).model_copy(update={"account_number": "ba 9000 0001"})
    outcome = await actions.perform("act-1", request, "agent.sam")
    assert outcome.customer_id == MARGARET and outcome.reference == "MAN-9000001"
    assert outcome.kind == "update_autopay" and outcome.action_id == "act-1"
    assert outcome.message.startswith(
        f"Set up autopay on BA90000001 with Mastercard ****5678 (exp 08/{NEW_CARD_YEAR % 100})"
    )
    assert outcome.changes == {
        "autopay": f"failed ({MARGARET_OLD_CARD}) → active ({MARGARET_NEW_CARD})",
        "last_failure_reason": "card_expired → none",
    }
    after = account_of(await view(systems, MARGARET), "BA90000001")
    assert after.autopay.status == "active" and after.autopay.last_failure_reason is None
    assert after.autopay.card == "Mastercard ending 5678" and not after.autopay.card_expired
    assert after.account.autopay.card_expiry == f"08/{NEW_CARD_YEAR % 100}"
    assert after.past_due == before.past_due and after.account.balance == before.account.balance
    with engine(systems, "billing").connect() as conn:
        logged = conn.execute(select(action_log)).one()
    assert logged.approved_by == "agent.sam" and logged.kind == "update_autopay"


@pytest.mark.anyio
async def test_take_payment_charges_the_new_card_and_clears_the_past_due(
    systems: Systems,
) -> None:
    actions = actions_of(systems)
    before = account_of(await view(systems, MARGARET), "BA90000001")
    overdue = before.past_due.amount
    await actions.perform("fix-card", await new_autopay(actions), "sam")
    outcome = await actions.perform(
        "pay-1", TakePayment(kind="take_payment", account_number="BA90000001"), "sam"
    )
    assert outcome.reference.startswith("PAY-") and outcome.customer_id == MARGARET
    assert f"Charged ${overdue:,.2f} to Mastercard ****5678 on BA90000001" in outcome.message
    assert outcome.changes["INV-9000001-5"] == "past_due → paid"
    after = account_of(await view(systems, MARGARET), "BA90000001")
    assert after.past_due is None
    assert after.account.balance == pytest.approx(before.account.balance - overdue)
    assert after.account.balance == pytest.approx(15.0)  # the late fee is all that is left
    payment = after.account.payments[0]
    assert (payment.payment_id, payment.method, payment.status) == (
        outcome.reference,
        "card",
        "succeeded",
    )
    assert payment.amount == pytest.approx(overdue) and payment.invoice_id == "INV-9000001-5"


@pytest.mark.anyio
async def test_waive_late_fee_credits_it_once(systems: Systems) -> None:
    actions = actions_of(systems)
    before = account_of(await view(systems, MARGARET), "BA90000001")
    request = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    outcome = await actions.perform("waive-1", request, "sam")
    assert outcome.message == "Credited the $15.00 late fee on BA90000001"
    assert outcome.changes["ADJ-9000001-L"] == "not credited → credited"
    after = account_of(await view(systems, MARGARET), "BA90000001")
    assert after.account.balance == pytest.approx(before.account.balance - 15.0)
    credit = after.account.adjustments[0]
    assert (credit.adjustment_id, credit.kind, credit.amount, credit.invoice_id) == (
        outcome.reference,
        "credit",
        15.0,
        "INV-9000001-5",
    )
    assert "ADJ-9000001-L" in credit.reason
    with pytest.raises(InvalidInput, match="no late fee left") as caught:
        await actions.perform("waive-2", request, "sam")
    assert caught.value.field == "account_number"


@pytest.mark.anyio
async def test_change_plan_moves_the_line(systems: Systems) -> None:
    request = ChangePlan(kind="change_plan", line_id="l90000010", plan_code="unl")
    outcome = await actions_of(systems).perform("plan-1", request, "sam")
    assert outcome.reference == "L90000010" and outcome.customer_id == MARGARET
    assert outcome.message == "Moved line +14155550101 from Plus 15 GB to Unlimited"
    assert outcome.changes == {"plan": "Plus 15 GB → Unlimited", "monthly_fee": "45.00 → 75.00"}
    after = account_of(await view(systems, MARGARET), "BA90000001")
    assert after.account.lines[0].plan.plan_code == "UNL"
    assert after.usage[0].plan == "Unlimited" and after.usage[0].allowance_gb is None


@pytest.mark.anyio
async def test_start_return_and_exchange_are_listed_on_the_order(systems: Systems) -> None:
    actions = actions_of(systems)
    ret = StartReturn(
        kind="start_return", order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="Too big"
    )
    outcome = await actions.perform("ret-1", ret, "sam")
    assert outcome.customer_id == DANIEL and outcome.reference.startswith("RET-")
    assert outcome.changes == {
        f"item {JACKET_ITEM}": "not returned → return requested",
        "refund_amount": "0.00 → 89.99",
    }
    swap = StartReturn(
        kind="start_exchange", order_number=CASE_ORDER, item_id=CASE_ITEM, reason="Wrong model"
    )
    exchange = await actions.perform("ret-2", swap, "sam")
    assert exchange.changes == {f"item {CASE_ITEM}": "not returned → exchange requested"}
    assert exchange.message.startswith("Started an exchange of Clear Protective Case")
    found = await view(systems, DANIEL)
    assert found.orders.data is not None
    jacket = next(
        p for p in found.orders.data.recent_purchases if p.order.order_number == JACKET_ORDER
    )
    (record,) = jacket.order.returns
    assert (record.return_id, record.kind, record.status, record.item_id) == (
        outcome.reference,
        "return",
        "requested",
        JACKET_ITEM,
    )
    assert record.refund_amount == 89.99 and record.reason == "Too big"
    assert jacket.items[0].eligible is False and jacket.items[0].policy == "already returned"
    with engine(systems, "orders").connect() as conn:
        kinds = conn.execute(select(s.returns.c.kind).where(s.returns.c.order_number == CASE_ORDER))
        assert kinds.scalars().all() == ["exchange"]


@pytest.mark.anyio
async def test_repeating_an_action_id_returns_the_first_outcome_and_writes_nothing(
    systems: Systems,
) -> None:
    actions = actions_of(systems)
    request = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    first = await actions.perform("same-id", request, "sam")
    written = snapshot(systems)
    again = await actions.perform("same-id", request, "someone.else")
    assert again == first and snapshot(systems) == written
    ret = StartReturn(
        kind="start_return", order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="x"
    )
    assert await actions.perform("r", ret, "sam") == await actions.perform("r", ret, "sam")
    with pytest.raises(InvalidInput, match="already used") as caught:
        await actions.perform(
            "same-id", TakePayment(kind="take_payment", account_number="BA90000001"), "sam"
        )
    assert caught.value.field == "action_id"


@pytest.mark.anyio
async def test_owner_of_each_kind_of_target(systems: Systems) -> None:
    actions = actions_of(systems)
    known: list[tuple[ActionRequest, str | None]] = [
        (autopay("BA90000001"), MARGARET),
        (TakePayment(kind="take_payment", account_number="BA90000003"), PRIYA),
        (WaiveLateFee(kind="waive_late_fee", account_number="BA90000006"), RICK),
        (ChangePlan(kind="change_plan", line_id="L90000010", plan_code="UNL"), MARGARET),
        (
            StartReturn(kind="start_return", order_number=JACKET_ORDER, item_id=1, reason="x"),
            DANIEL,
        ),
        (autopay("BA00000000"), None),
        (ChangePlan(kind="change_plan", line_id="L00000000", plan_code="UNL"), None),
        (
            StartReturn(kind="start_exchange", order_number="W000000000", item_id=1, reason="x"),
            None,
        ),
    ]
    assert [await actions.owner(request) for request, _ in known] == [cid for _, cid in known]
    with pytest.raises(InvalidInput) as caught:
        await actions.owner(autopay("BA1' OR 1=1"))
    assert caught.value.field == "account_number"


REFUSALS: list[tuple[ActionRequest, type[Exception], str, str]] = [
    (
        TakePayment(kind="take_payment", account_number="BA90000003"),
        InvalidInput,
        "account_number",
        "nothing past due",
    ),
    (
        TakePayment(kind="take_payment", account_number="BA90000001"),
        InvalidInput,
        "account_number",
        "autopay failed",
    ),
    (
        TakePayment(kind="take_payment", account_number="BA90000003", amount=5.0),
        InvalidInput,
        "account_number",
        "nothing past due",
    ),
    (
        WaiveLateFee(kind="waive_late_fee", account_number="BA90000006"),
        InvalidInput,
        "account_number",
        "no late fee",
    ),
    (
        WaiveLateFee(
            kind="waive_late_fee", account_number="BA90000001", invoice_id="INV-9000001-4"
        ),
        InvalidInput,
        "invoice_id",
        "no late fee",
    ),
    (
        autopay("BA90000001"),
        InvalidInput,
        "payment_method",
        "not a card registered for BA90000001",
    ),
    (
        ChangePlan(kind="change_plan", line_id="L90000010", plan_code="PLUS-15"),
        InvalidInput,
        "plan_code",
        "already on Plus 15 GB",
    ),
    (
        ChangePlan(kind="change_plan", line_id="L90000010", plan_code="DATA-5"),
        InvalidInput,
        "plan_code",
        "add-on",
    ),
    (
        ChangePlan(kind="change_plan", line_id="L90000010", plan_code="GOLD"),
        InvalidInput,
        "plan_code",
        "no plan GOLD",
    ),
    (
        StartReturn(kind="start_return", order_number=JACKET_ORDER, item_id=CASE_ITEM, reason="x"),
        InvalidInput,
        "item_id",
        "not in order",
    ),
    (autopay("BA00000000"), NotFound, "", "no account BA00000000"),
    (ChangePlan(kind="change_plan", line_id="L00000000", plan_code="UNL"), NotFound, "", "no line"),
    (
        StartReturn(kind="start_return", order_number="W000000000", item_id=1, reason="x"),
        NotFound,
        "",
        "no order",
    ),
    (autopay("not an account"), InvalidInput, "account_number", "BA1234"),
    (
        StartReturn(kind="start_return", order_number="W1; DROP", item_id=1, reason="x"),
        InvalidInput,
        "order_number",
        "order number",
    ),
    (
        StartReturn(kind="start_return", order_number=JACKET_ORDER, item_id=1, reason="  "),
        InvalidInput,
        "reason",
        "line of text",
    ),
]


@pytest.mark.anyio
@pytest.mark.parametrize(("request_", "error", "field", "match"), REFUSALS)
async def test_refusals_write_nothing(
    systems: Systems, request_: ActionRequest, error: type[Exception], field: str, match: str
) -> None:
    actions = actions_of(systems)
    before = snapshot(systems)
    with pytest.raises(error, match=match) as previewed:
        await actions.preview(request_)
    with pytest.raises(error, match=match) as caught:
        await actions.perform("refused", request_, "sam")
    assert str(previewed.value) == str(caught.value)
    if isinstance(caught.value, InvalidInput):
        assert caught.value.field == field
        assert isinstance(previewed.value, InvalidInput) and previewed.value.field == field
    assert snapshot(systems) == before


async def prepared(actions: ActionSystem, kind: str) -> ActionRequest:
    """A request of this kind that performs, with whatever it needs done first."""
    if kind == "update_autopay":
        return await new_autopay(actions)
    if kind == "take_payment":
        await actions.perform("fix-card", await new_autopay(actions), "sam")
        return TakePayment(kind="take_payment", account_number="BA90000001")
    if kind == "waive_late_fee":
        return WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    if kind == "change_plan":
        return ChangePlan(kind="change_plan", line_id="L90000010", plan_code="UNL")
    return StartReturn(kind=kind, order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="Big")


@pytest.mark.anyio
@pytest.mark.parametrize("kind", ACTION_KINDS)
async def test_a_preview_writes_nothing_and_says_what_perform_then_does(
    systems: Systems, kind: str
) -> None:
    actions = actions_of(systems)
    request = await prepared(actions, kind)
    before = snapshot(systems)
    preview = await actions.preview(request)
    assert await actions.preview(request) == preview
    assert snapshot(systems) == before
    assert preview.kind == kind and preview.message.startswith("Will ")
    outcome = await actions.perform("after-preview", request, "sam")
    assert outcome.changes == preview.changes
    assert snapshot(systems) != before


@pytest.mark.anyio
async def test_previews_read_as_one_line_for_the_agent(systems: Systems) -> None:
    actions = actions_of(systems)
    before = account_of(await view(systems, MARGARET), "BA90000001")
    owed, overdue = before.account.balance, before.past_due.amount
    fix = await new_autopay(actions)
    moved = await actions.preview(fix)
    assert moved.message == (
        f"Will move autopay on BA90000001 from {MARGARET_OLD_CARD.replace(', ', ' (')}) "
        f"to {MARGARET_NEW_CARD.replace(', ', ' (')}); ${overdue:,.2f} stays past due"
    )
    assert (
        moved.changes["autopay"] == f"failed ({MARGARET_OLD_CARD}) → active ({MARGARET_NEW_CARD})"
    )
    await actions.perform("fix-card", fix, "sam")
    pay = await actions.preview(TakePayment(kind="take_payment", account_number="BA90000001"))
    assert pay.message == (
        f"Will charge ${overdue:,.2f} to Mastercard ****5678 on BA90000001 and mark 1 invoice paid"
    )
    assert pay.changes == {"balance": f"{owed:.2f} → 15.00", "INV-9000001-5": "past_due → paid"}
    part = await actions.preview(
        TakePayment(kind="take_payment", account_number="BA90000001", amount=20.0)
    )
    assert part.message == "Will charge $20.00 to Mastercard ****5678 on BA90000001"
    assert part.changes["INV-9000001-5"] == f"$0.00 → $20.00 of ${overdue:,.2f} paid"


@pytest.mark.anyio
async def test_take_payment_after_the_update_clears_the_past_due_balance(
    systems: Systems,
) -> None:
    actions = actions_of(systems)
    pay = TakePayment(kind="take_payment", account_number="BA90000001")
    with pytest.raises(InvalidInput, match="autopay failed"):
        await actions.preview(pay)
    await actions.perform("fix-card", await new_autopay(actions), "sam")
    preview = await actions.preview(pay)
    outcome = await actions.perform("pay", pay, "sam")
    assert outcome.changes == preview.changes
    after = account_of(await view(systems, MARGARET), "BA90000001")
    assert after.past_due is None and after.account.balance == pytest.approx(15.0)
    assert after.autopay.status == "active" and after.autopay.card == "Mastercard ending 5678"
    with pytest.raises(InvalidInput, match="nothing past due"):
        await actions.preview(pay)


@pytest.mark.anyio
async def test_a_second_return_of_the_same_item_is_refused(systems: Systems) -> None:
    actions = actions_of(systems)
    ret = StartReturn(
        kind="start_return", order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="x"
    )
    await actions.perform("first", ret, "sam")
    before = snapshot(systems)
    with pytest.raises(InvalidInput, match="already has a return") as caught:
        await actions.perform("second", ret.model_copy(update={"kind": "start_exchange"}), "sam")
    assert caught.value.field == "item_id" and snapshot(systems) == before


@pytest.mark.anyio
async def test_bad_action_ids_and_approvers_are_refused(systems: Systems) -> None:
    request = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    for action_id, approver, field in (
        ("", "sam", "action_id"),
        ("a/b", "sam", "action_id"),
        ("ok", " ", "approved_by"),
    ):
        with pytest.raises(InvalidInput) as caught:
            await actions_of(systems).perform(action_id, request, approver)
        assert caught.value.field == field


@pytest.mark.anyio
async def test_an_outage_keeps_the_other_systems_actions(systems: Systems) -> None:
    degraded = with_outage(systems, ["orders"])
    assert degraded.actions is not None
    ret = StartReturn(
        kind="start_return", order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="x"
    )
    with pytest.raises(SystemUnavailable):
        await degraded.actions.perform("down", ret, "sam")
    waive = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    assert (await degraded.actions.perform("up", waive, "sam")).customer_id == MARGARET


# --- The REST path, through the real demo services on loopback ------------------------------


@pytest.mark.anyio
async def test_rest_actions_end_to_end(rest: Systems) -> None:
    assert rest.actions is not None
    waive = WaiveLateFee(kind="waive_late_fee", account_number="BA 9000 0001")
    assert await rest.actions.owner(waive) == MARGARET
    before = account_of(await view(rest, MARGARET), "BA90000001")
    outcome = await rest.actions.perform("rest-1", waive, "sam")
    assert outcome.message == "Credited the $15.00 late fee on BA90000001"
    assert await rest.actions.perform("rest-1", waive, "sam") == outcome
    after = account_of(await view(rest, MARGARET), "BA90000001")
    assert after.account.balance == pytest.approx(before.account.balance - 15.0)
    assert after.account.adjustments[0].adjustment_id == outcome.reference

    ret = StartReturn(
        kind="start_return", order_number=JACKET_ORDER, item_id=JACKET_ITEM, reason="Too big"
    )
    assert await rest.actions.owner(ret) == DANIEL
    returned = await rest.actions.perform("rest-2", ret, "sam")
    orders = await rest.orders.get_customer_orders(DANIEL)
    jacket = next(o for o in orders.orders if o.order_number == JACKET_ORDER)
    assert [r.return_id for r in jacket.returns] == [returned.reference]

    plan = ChangePlan(kind="change_plan", line_id="L90000010", plan_code="UNL")
    assert (await rest.actions.perform("rest-3", plan, "sam")).reference == "L90000010"


@pytest.mark.anyio
async def test_rest_actions_refuse_exactly_as_sql(rest: Systems) -> None:
    assert rest.actions is not None
    with pytest.raises(InvalidInput, match="add-on") as caught:
        plan = ChangePlan(kind="change_plan", line_id="L90000010", plan_code="DATA-5")
        await rest.actions.perform("rest-bad", plan, "sam")
    assert caught.value.field == "plan_code"
    with pytest.raises(NotFound, match="no account BA00000000"):
        await rest.actions.perform("rest-gone", autopay("BA00000000"), "sam")
    gone = StartReturn(kind="start_return", order_number="W000000000", item_id=1, reason="x")
    assert await rest.actions.owner(gone) is None


def test_services_take_each_action_only_on_its_own_system(
    writable_services: RunningServices,
) -> None:
    ret = {
        "kind": "start_return",
        "order_number": JACKET_ORDER,
        "item_id": JACKET_ITEM,
        "reason": "x",
    }
    headers = {"Authorization": f"Bearer {TOKEN}"}
    billing = writable_services.urls["billing"]
    wrong = httpx.post(
        f"{billing}/v1/actions",
        json={"action_id": "a", "approved_by": "s", "request": ret},
        headers=headers,
    )
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "kind"
    unknown = httpx.post(
        f"{billing}/v1/actions:owner", json={"request": {"kind": "refund_all"}}, headers=headers
    )
    assert unknown.status_code == 400 and unknown.json()["error"]["code"] == "invalid_input"
    assert httpx.post(f"{billing}/v1/actions", json={}).status_code == 401


def test_build_systems_shares_the_read_engines(data_copy: Path) -> None:
    built = build_systems(Settings(data_dir=data_copy, backend="sql"))
    actions = actions_of(built)
    assert isinstance(built.billing, SqlBilling) and isinstance(built.orders, SqlOrders)
    assert actions.engines == {"billing": built.billing.engine, "orders": built.orders.engine}
