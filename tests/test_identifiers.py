"""The identifiers people type, in the formats they type them."""

from __future__ import annotations

import pytest

from tools import identifiers as ids
from tools.errors import InvalidInput


@pytest.mark.parametrize(
    "raw",
    [
        "(415) 555-0101",
        "415.555.0101",
        "+1 415 555 0101",
        "1-415-555-0101",
        "4155550101",
        " 415 555 0101 ",
        "+1 (415) 555-0101",
    ],
)
def test_phone_formats_normalize_to_e164(raw: str) -> None:
    assert ids.phone(raw) == "+14155550101"


def test_international_phone() -> None:
    assert ids.phone("+44 20 7946 0958") == "+442079460958"


@pytest.mark.parametrize("raw", ["", "   ", "555-0101", "abc", "415-555-01O1", "+1 415\n5550101"])
def test_bad_phones(raw: str) -> None:
    with pytest.raises(InvalidInput):
        ids.phone(raw)


def test_other_identifiers_normalize() -> None:
    assert ids.email(" Margaret.Chen@Example.NET ") == "margaret.chen@example.net"
    assert ids.account_number("ba 9000-0001") == "BA90000001"
    assert ids.order_number("#s 900-000-201") == "S900000201"
    assert ids.social_handle("MChen_SF") == "@mchen_sf"
    assert ids.amount("$1,097.64") == 1097.64
    assert ids.person_name("  Anna   Becker ") == "anna becker"
    assert ids.person_name("José O'Neil-Ruiz") == "josé o'neil-ruiz"
    assert ids.postal_code("98052-1234") == "98052"
    assert ids.postal_code("sw1a 1aa") == "SW1A1AA"
    assert ids.customer_id("cus-9000001") == "CUS-9000001"


@pytest.mark.parametrize(
    ("fn", "raw"),
    [
        (ids.amount, "0"),
        (ids.amount, "1.234"),
        (ids.amount, "NaN"),
        (ids.amount, "abc"),
        (ids.card_last4, "12345"),
        (ids.customer_id, "CUS-1"),
        (ids.customer_id, "1 OR 1=1"),
        (ids.person_name, "Madonna"),
        (ids.postal_code, "!!"),
        (ids.purchase_date, "2026-02-30"),
    ],
)
def test_malformed_values_name_the_field(fn: object, raw: str) -> None:
    with pytest.raises(InvalidInput) as caught:
        fn(raw)  # type: ignore[operator]
    assert caught.value.message.startswith(caught.value.field)
