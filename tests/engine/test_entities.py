"""Entities from the way customers actually write."""

from __future__ import annotations

from datetime import date

from copilot.entities import Entities, extract

TODAY = date(2026, 11, 24)


def test_identifiers() -> None:
    e = extract(
        "hi, it's margaret.chen@example.net, phone (415) 555-0101, account BA9000 0001", TODAY
    )
    assert e.emails == ["margaret.chen@example.net"]
    assert e.phones == ["+14155550101"]
    assert e.accounts == ["BA90000001"]


def test_store_purchase_details() -> None:
    e = extract(
        "I bought the jacket two weeks ago for $97.64 with my Mastercard ending in 7319", TODAY
    )
    assert e.amounts == [97.64]
    assert e.card_last4 == ["7319"]
    assert e.dates == [date(2026, 11, 10)]
    assert e.products == ["AP-JACK"]


def test_orders_dates_plans() -> None:
    e = extract(
        "order #S900000201 from Nov 10, and W123-456-789 on 2026-10-01; I'm on Plus 15 GB "
        "and want Unlimited, paid 45 dollars yesterday",
        TODAY,
    )
    assert e.orders == ["S900000201", "W123456789"]
    assert date(2026, 11, 10) in e.dates and date(2026, 10, 1) in e.dates
    assert date(2026, 11, 23) in e.dates
    assert e.plans == ["PLUS-15", "UNL"]
    assert e.amounts == [45.0]


def test_nothing_found_and_merge() -> None:
    empty = extract("thanks, that's all for today!", TODAY)
    assert empty.dates == [TODAY] and not empty.phones and not empty.amounts
    assert extract("hello there", TODAY).is_empty()
    merged = Entities(phones=["+14155550101"]).merge(
        Entities(phones=["+14155550101", "+12065550103"])
    )
    assert merged.phones == ["+14155550101", "+12065550103"]


def test_future_month_day_means_last_year() -> None:
    assert extract("it was on Dec 20", TODAY).dates == [date(2025, 12, 20)]
