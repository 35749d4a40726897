"""The secure payment form seam: cards stored by token, never by number; autopay moves to one."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from pydantic import ValidationError
from sqlalchemy import select

from copilot.settings import Settings
from copilot.systems import build_systems
from tests.conftest import TODAY
from tests.test_actions import (
    MARGARET_NEW_CARD,
    MARGARET_OLD_CARD,
    NEW_CARD_YEAR,
    TOKEN,
    UNKNOWN_CARD,
    account_of,
    actions_of,
    autopay,
    engine,
    new_autopay,
    new_card,
    rows_of,
    snapshot,
    view,
)
from tools import schema as s
from tools.actions import RoutedActions, TakePayment, UpdateAutopay, row_key
from tools.base import Systems
from tools.demo.stories import DANIEL, MARGARET, PRIYA
from tools.errors import InvalidInput, NotFound
from tools.services import RunningServices
from tools.sql.actions import SqlActions
from tools.sql.engine import make_engine, sqlite_url

TOKEN_RE = re.compile(r"^pm_[A-Za-z]{24}$")
CARD_NUMBER = "4111111111111111"


@pytest.fixture
async def systems(data_copy: Path) -> AsyncIterator[Systems]:
    """The embedded systems over this test's copy of the data (actions write to them)."""
    built = build_systems(Settings(data_dir=data_copy, backend="sql"))
    yield built
    await built.aclose()


def later(systems: Systems, when: datetime) -> SqlActions:
    """The same databases' actions as they will answer at `when`."""
    engines = actions_of(systems).engines
    return SqlActions(engines["billing"], engines["orders"], clock=lambda: when)


@pytest.mark.anyio
async def test_the_secure_form_registers_a_card_by_an_opaque_token(systems: Systems) -> None:
    actions = actions_of(systems)
    card = await actions.register_payment_method(new_card("ba 9000 0001", brand=" mastercard "))
    assert TOKEN_RE.match(card.token)
    assert (card.account_number, card.customer_id, card.brand, card.last4) == (
        "BA90000001",
        MARGARET,
        "Mastercard",
        "5678",
    )
    assert (card.exp_month, card.exp_year, card.expiry) == (
        8,
        NEW_CARD_YEAR,
        f"08/{NEW_CARD_YEAR % 100}",
    )
    again = await actions.register_payment_method(new_card())
    assert again.token != card.token
    with engine(systems, "billing").connect() as conn:
        stored = conn.execute(
            select(s.payment_methods).where(s.payment_methods.c.token == card.token)
        ).one()
    assert stored._asdict() == {
        "token": card.token,
        "account_number": "BA90000001",
        "method": "card",
        "card_brand": "Mastercard",
        "card_last4": "5678",
        "exp_month": 8,
        "exp_year": NEW_CARD_YEAR,
        "created_at": stored.created_at,
    }
    assert isinstance(stored.created_at, datetime)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"last4": CARD_NUMBER}, "last4"),
        ({"last4": "4111 1111 1111 1111"}, "last4"),
        ({"last4": 4111111111111111}, "last4"),
        ({"cvv": "123"}, "cvv"),
        ({"CVC": "123"}, "CVC"),
        ({"card_number": CARD_NUMBER}, "card_number"),
        ({"pan": CARD_NUMBER}, "pan"),
    ],
)
def test_card_data_is_refused_by_name_and_never_repeated(
    fields: dict[str, object], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        new_card("BA90000001", **fields)
    assert caught.value.field == field
    assert "4111" not in str(caught.value) and "123" not in str(caught.value)


@pytest.mark.parametrize(
    "fields",
    [{"brand": "Diners Club"}, {"last4": "12a4"}, {"last4": "123"}, {"exp_month": 13}],
)
def test_malformed_entries_are_validation_errors(fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        new_card("BA90000001", **fields)


@pytest.mark.anyio
async def test_registration_refuses_expired_cards_and_unknown_accounts(systems: Systems) -> None:
    actions = actions_of(systems)
    before = snapshot(systems)
    with pytest.raises(InvalidInput, match="expired") as caught:
        await actions.register_payment_method(new_card(exp_year=TODAY.year - 1))
    assert caught.value.field == "exp_year"
    on_new_year = later(systems, datetime(NEW_CARD_YEAR, 12, 1))
    with pytest.raises(InvalidInput, match=f"expired 08/{NEW_CARD_YEAR % 100}") as caught:
        await on_new_year.register_payment_method(new_card())
    assert caught.value.field == "exp_month"
    with pytest.raises(NotFound, match="no account BA00000000"):
        await actions.register_payment_method(new_card("BA00000000"))
    with pytest.raises(InvalidInput) as caught:
        await actions.register_payment_method(new_card("BA1' OR 1=1"))
    assert caught.value.field == "account_number"
    assert snapshot(systems) == before


@pytest.mark.parametrize(
    "raw",
    [
        CARD_NUMBER,
        "4111 1111 1111 1111",
        "4111-1111-1111-1",
        "pm_4111111111111111",
        "pm_41111111111111110000",
    ],
)
def test_update_autopay_takes_a_token_never_a_card_number(raw: str) -> None:
    with pytest.raises(ValidationError, match="secure payment form") as caught:
        autopay("BA90000001", raw)
    assert raw not in str(caught.value)
    assert caught.value.errors()[0]["loc"] == ("payment_method",)


@pytest.mark.parametrize("raw", ["", "pm_short", "tok_abcdefghijklmnopqrstuvwx", "pm_" + "a" * 70])
def test_update_autopay_takes_only_a_well_formed_token(raw: str) -> None:
    with pytest.raises(ValidationError, match="token the secure payment form returns"):
        autopay("BA90000001", raw)


def test_update_autopay_needs_a_payment_method() -> None:
    with pytest.raises(ValidationError, match="payment_method"):
        UpdateAutopay.model_validate({"kind": "update_autopay", "account_number": "BA90000001"})
    schema = UpdateAutopay.model_json_schema()["properties"]["payment_method"]
    assert schema["pattern"] == "^pm_[A-Za-z0-9_-]{16,64}$" and "secure" in schema["description"]


@pytest.mark.anyio
async def test_a_token_of_another_account_reads_as_one_that_does_not_exist(
    systems: Systems,
) -> None:
    actions = actions_of(systems)
    priyas = await actions.register_payment_method(new_card("BA90000003"))
    before = snapshot(systems)
    refusals = []
    for token in (priyas.token, UNKNOWN_CARD):
        with pytest.raises(InvalidInput) as caught:
            await actions.perform("borrowed", autopay("BA90000001", token), "sam")
        assert caught.value.field == "payment_method"
        refusals.append(str(caught.value).replace(token, "TOKEN"))
    assert refusals[0] == refusals[1]
    assert "not a card registered for BA90000001" in refusals[0]
    assert snapshot(systems) == before


@pytest.mark.anyio
async def test_a_token_whose_card_has_since_expired_is_refused(systems: Systems) -> None:
    request = await new_autopay(actions_of(systems))
    before = snapshot(systems)
    next_year = later(systems, datetime(NEW_CARD_YEAR + 1, 1, 2))
    for attempt in (next_year.preview(request), next_year.perform("late", request, "sam")):
        with pytest.raises(InvalidInput, match=f"expired 08/{NEW_CARD_YEAR % 100}") as caught:
            await attempt
        assert caught.value.field == "payment_method"
    assert snapshot(systems) == before


@pytest.mark.anyio
async def test_the_card_already_on_autopay_is_refused(systems: Systems) -> None:
    actions = actions_of(systems)
    same = await new_autopay(
        actions, "BA90000003", brand="Amex", last4="0612", exp_month=4, exp_year=TODAY.year + 2
    )
    with pytest.raises(InvalidInput, match="already active on Amex \\*\\*\\*\\*0612") as caught:
        await actions.perform("same-card", same, "sam")
    assert caught.value.field == "payment_method"
    other = await new_autopay(actions, "BA90000003")
    outcome = await actions.perform("other-card", other, "sam")
    assert outcome.customer_id == PRIYA
    assert outcome.changes == {
        "autopay": f"active (Amex ****0612, exp 04/{(TODAY.year + 2) % 100}) → active "
        f"({MARGARET_NEW_CARD})"
    }


@pytest.mark.anyio
async def test_autopay_is_set_up_where_there_was_none(systems: Systems) -> None:
    actions = actions_of(systems)
    before = account_of(await view(systems, DANIEL), "BA90000002")
    assert before.account.autopay is None
    outcome = await actions.perform("set-up", await new_autopay(actions, "BA90000002"), "sam")
    assert outcome.reference == f"MAN-{row_key('set-up')}"
    assert outcome.changes == {"autopay": f"none → active ({MARGARET_NEW_CARD})"}
    assert outcome.message == (
        f"Set up autopay on BA90000002 with {MARGARET_NEW_CARD.replace(', ', ' (')})"
    )
    after = account_of(await view(systems, DANIEL), "BA90000002")
    assert after.autopay.status == "active" and after.autopay.card == "Mastercard ending 5678"
    assert after.account.autopay.mandate_id == outcome.reference
    assert after.account.autopay.set_up_at == TODAY


@pytest.mark.anyio
async def test_routed_actions_preview_and_register_on_their_system(systems: Systems) -> None:
    sql = actions_of(systems)
    routed = RoutedActions(billing=sql, orders=sql)
    request = await new_autopay(routed)
    assert (await routed.preview(request)).changes == (await sql.preview(request)).changes


# --- The REST path, through the real demo services on loopback ------------------------------


@pytest.mark.anyio
async def test_rest_registers_previews_and_performs_as_sql(rest: Systems, data_copy: Path) -> None:
    assert rest.actions is not None
    engines = {name: make_engine(sqlite_url(data_copy, name)) for name in ("billing", "orders")}
    card = await rest.actions.register_payment_method(new_card("BA 9000 0001"))
    assert TOKEN_RE.match(card.token) and card.customer_id == MARGARET
    fix = autopay("BA90000001", card.token)
    before = rows_of(engines)
    preview = await rest.actions.preview(fix)
    assert rows_of(engines) == before
    assert (
        preview.changes["autopay"] == f"failed ({MARGARET_OLD_CARD}) → active ({MARGARET_NEW_CARD})"
    )
    outcome = await rest.actions.perform("rest-fix", fix, "sam")
    assert outcome.changes == preview.changes and outcome.reference == "MAN-9000001"

    pay = TakePayment(kind="take_payment", account_number="BA90000001")
    charge = await rest.actions.preview(pay)
    assert charge.message.startswith("Will charge $") and "Mastercard ****5678" in charge.message
    paid = await rest.actions.perform("rest-pay", pay, "sam")
    assert paid.changes == charge.changes
    after = account_of(await view(rest, MARGARET), "BA90000001")
    assert after.past_due is None and after.account.balance == pytest.approx(15.0)
    assert after.autopay.card == "Mastercard ending 5678"
    for db in engines.values():
        db.dispose()


@pytest.mark.anyio
async def test_rest_refuses_exactly_as_sql(rest: Systems) -> None:
    assert rest.actions is not None
    with pytest.raises(NotFound, match="no account BA00000000"):
        await rest.actions.register_payment_method(new_card("BA00000000"))
    with pytest.raises(InvalidInput, match="expired") as caught:
        await rest.actions.register_payment_method(new_card(exp_year=TODAY.year - 1))
    assert caught.value.field == "exp_year"
    priyas = await rest.actions.register_payment_method(new_card("BA90000003"))
    with pytest.raises(InvalidInput, match="not a card registered") as caught:
        await rest.actions.preview(autopay("BA90000001", priyas.token))
    assert caught.value.field == "payment_method"
    with pytest.raises(NotFound, match="no account BA00000000"):
        await rest.actions.preview(autopay("BA00000000"))
    with pytest.raises(InvalidInput, match="autopay failed"):
        await rest.actions.preview(TakePayment(kind="take_payment", account_number="BA90000001"))


def test_services_refuse_card_data_without_repeating_it(
    writable_services: RunningServices,
) -> None:
    headers = {"Authorization": f"Bearer {TOKEN}"}
    billing = writable_services.urls["billing"]
    entry = new_card().model_dump()
    for extra, field in (
        ({"cvv": "987"}, "cvv"),
        ({"card_number": CARD_NUMBER}, "card_number"),
        ({"last4": CARD_NUMBER}, "last4"),
    ):
        answer = httpx.post(f"{billing}/v1/payment-methods", json=entry | extra, headers=headers)
        assert answer.status_code == 400 and answer.json()["error"]["field"] == field
        assert "987" not in answer.text and CARD_NUMBER not in answer.text
    raw = {"kind": "update_autopay", "account_number": "BA90000001", "payment_method": CARD_NUMBER}
    for route, body in (
        ("/v1/actions", {"action_id": "a", "approved_by": "sam", "request": raw}),
        ("/v1/actions:preview", {"request": raw}),
    ):
        answer = httpx.post(f"{billing}{route}", json=body, headers=headers)
        error = answer.json()["error"]
        assert answer.status_code == 400 and error["field"] == "payment_method"
        assert "secure payment form" in error["message"] and CARD_NUMBER not in answer.text
    orders = writable_services.urls["orders"]
    mine = {"request": autopay("BA90000001").model_dump()}
    wrong = httpx.post(f"{orders}/v1/actions:preview", json=mine, headers=headers)
    assert wrong.status_code == 400 and wrong.json()["error"]["field"] == "kind"
    missing = httpx.post(f"{orders}/v1/payment-methods", json=entry, headers=headers)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "unknown_route"
