"""Every story customer resolves from each of their identifiers; ambiguity is never guessed."""

from __future__ import annotations

from datetime import timedelta

import pytest

from tests.conftest import TODAY
from tools.base import Systems
from tools.demo.stories import ANNA, DANIEL, JACKET_TOTAL, MARGARET, PRIYA, RICK, TOM
from tools.errors import InvalidInput
from tools.identity import IdentityQuery, resolve

pytestmark = pytest.mark.anyio

JACKET_DAY = TODAY - timedelta(days=14)

MATCHES = [
    (MARGARET, {"phone": "(415) 555-0101"}),
    (MARGARET, {"phone": "+1 415 555 0101"}),
    (MARGARET, {"phone": "415.555.0101"}),
    (MARGARET, {"phone": "1-415-555-0101"}),
    (MARGARET, {"email": "MARGARET.CHEN@example.net"}),
    (MARGARET, {"account": "BA9000 0001"}),
    (MARGARET, {"account": "ba-90000001"}),
    (MARGARET, {"social": "@MChen_SF"}),
    (MARGARET, {"name": "Margaret  Chen", "postal_code": "94110"}),
    (DANIEL, {"order": "#S900000201"}),
    (DANIEL, {"card_last4": "7319", "purchase_date": str(JACKET_DAY), "amount": f"{JACKET_TOTAL}"}),
    (
        DANIEL,
        {
            "card_last4": "7319",
            "purchase_date": str(JACKET_DAY - timedelta(days=1)),
            "amount": f"${JACKET_TOTAL}",
        },
    ),
    (DANIEL, {"email": "dan.okafor@example.com"}),
    (PRIYA, {"phone": "206-555-0103"}),
    (PRIYA, {"name": "priya raman", "postal_code": "98103"}),
    (PRIYA, {"account": "BA90000003"}),
    (TOM, {"phone": "(425) 555-0114"}),
    (ANNA, {"phone": "(425) 555-0104", "name": "Anna Becker", "postal_code": "98052"}),
    (ANNA, {"phone": "(425) 555-0104", "email": "anna.becker@example.com"}),
    (RICK, {"phone": "971 555 0106"}),
    (RICK, {"account": "BA90000006", "phone": "9715550106"}),
]


@pytest.mark.parametrize(("expected", "given"), MATCHES)
async def test_story_customers_resolve(
    systems: Systems, expected: str, given: dict[str, str]
) -> None:
    result = await resolve(systems, IdentityQuery(**given))
    assert result.status == "matched", result.message
    assert result.customer_id == expected
    assert result.candidates[0].evidence
    assert 0 < result.candidates[0].confidence <= 1
    assert result.tool_calls and all(c.outcome in ("ok", "empty") for c in result.tool_calls)


async def test_shared_family_phone_is_ambiguous(systems: Systems) -> None:
    result = await resolve(systems, IdentityQuery(phone="(425) 555-0104"))
    assert result.status == "ambiguous"
    assert result.customer_id is None
    assert {c.customer_id for c in result.candidates} == {TOM, ANNA}
    assert result.candidates[0].confidence < 0.9


async def test_identifiers_of_different_people_are_ambiguous(systems: Systems) -> None:
    result = await resolve(
        systems, IdentityQuery(phone="(415) 555-0101", email="dan.okafor@example.com")
    )
    assert result.status == "ambiguous"
    assert {c.customer_id for c in result.candidates} == {MARGARET, DANIEL}


async def test_unknown_identifiers_are_not_found(systems: Systems) -> None:
    for given in (
        {"phone": "(212) 555-0199"},
        {"email": "nobody@example.com"},
        {"account": "BA00000001"},
        {"order": "W000000001"},
        {"card_last4": "7319", "purchase_date": str(JACKET_DAY), "amount": "12.00"},
    ):
        result = await resolve(systems, IdentityQuery(**given))
        assert result.status == "not_found", given
        assert result.candidates == []


async def test_generated_customers_resolve_by_their_phone(systems: Systems) -> None:
    for n in (1, 250, 1999):
        profile = await systems.crm.get_profile(f"CUS-{n:07d}")
        assert profile is not None
        phone = next(c.value for c in profile.contacts if c.kind == "phone")
        result = await resolve(systems, IdentityQuery(phone=phone))
        assert result.customer_id == profile.customer_id


BAD = [
    ({}, "query"),
    ({"phone": "abc"}, "phone"),
    ({"phone": "555-0142"}, "phone"),
    ({"phone": "415'; DROP TABLE customers;--"}, "phone"),
    ({"email": "margaret.chen@"}, "email"),
    ({"email": "x' OR '1'='1@example.com"}, "email"),
    ({"account": "1 OR 1=1"}, "account"),
    ({"order": "S9000002010"}, "order"),
    ({"card_last4": "7319"}, "card_last4"),
    ({"card_last4": "73a9", "purchase_date": "2026-01-01", "amount": "5"}, "card_last4"),
    ({"card_last4": "7319", "purchase_date": "yesterday", "amount": "5"}, "date"),
    ({"card_last4": "7319", "purchase_date": "2026-01-01", "amount": "-5"}, "amount"),
    ({"card_last4": "7319", "purchase_date": "2026-01-01", "amount": "1e309"}, "amount"),
    ({"name": "Margaret Chen"}, "name"),
    ({"name": "Robert'); DROP TABLE--", "postal_code": "94110"}, "name"),
    ({"social": "@" + "a" * 5000}, "social"),
    ({"phone": "4" * 10_000}, "phone"),
]


@pytest.mark.parametrize(("given", "field"), BAD)
async def test_bad_input_is_rejected_before_any_system_is_asked(
    systems: Systems, given: dict[str, str], field: str
) -> None:
    with pytest.raises(InvalidInput) as caught:
        await resolve(systems, IdentityQuery(**given))
    assert caught.value.field == field
    assert caught.value.message.startswith(field)


async def test_sql_shaped_input_changes_nothing(systems: Systems) -> None:
    before = await systems.crm.find_by_contact("phone", "+14155550101")
    with pytest.raises(InvalidInput):
        await resolve(systems, IdentityQuery(email="a@b.co'; DELETE FROM customers;--"))
    # A value that validates but carries quotes reaches SQL only as a bound parameter.
    result = await resolve(systems, IdentityQuery(name="O'Brien Smith", postal_code="94110"))
    assert result.status == "not_found"
    assert await systems.crm.find_by_contact("phone", "+14155550101") == before
