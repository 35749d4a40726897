"""Cards entered through the secure payment form, stored by token: brand, last four, expiry."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select

from tools import cards
from tools import schema as s
from tools.actions import PaymentMethod, PaymentMethodEntry
from tools.errors import InvalidInput, NotFound


def register(conn: Connection, entry: PaymentMethodEntry, now: datetime) -> PaymentMethod:
    """Store the card on its account under a fresh token; an expired card is refused."""
    number = entry.account_number
    customer_id = conn.execute(
        select(s.accounts.c.crm_customer_id).where(s.accounts.c.account_number == number)
    ).scalar()
    if customer_id is None:
        raise NotFound(f"no account {number}")
    today = now.date()
    if cards.expired(entry.exp_month, entry.exp_year, today):
        field = "exp_month" if entry.exp_year == today.year else "exp_year"
        expiry = cards.expiry_text(entry.exp_month, entry.exp_year)
        raise InvalidInput(field, f"the card expired {expiry}: ask for another card")
    token = cards.new_token()
    conn.execute(
        insert(s.payment_methods).values(
            token=token,
            account_number=number,
            method="card",
            card_brand=entry.brand,
            card_last4=entry.last4,
            exp_month=entry.exp_month,
            exp_year=entry.exp_year,
            created_at=now,
        )
    )
    return PaymentMethod(
        token=token,
        account_number=number,
        customer_id=str(customer_id),
        brand=entry.brand,
        last4=entry.last4,
        exp_month=entry.exp_month,
        exp_year=entry.exp_year,
    )


def registered(conn: Connection, token: str, account_number: str) -> Row[Any]:
    """The stored card behind a token of this account; InvalidInput for any other token."""
    row = conn.execute(
        select(s.payment_methods).where(
            s.payment_methods.c.token == token,
            s.payment_methods.c.account_number == account_number,
        )
    ).first()
    if row is None:
        # One answer for a token that does not exist and one of another account: the
        # refusal must not tell which tokens exist.
        raise InvalidInput(
            "payment_method",
            f"{token} is not a card registered for {account_number}: "
            "send the customer the secure payment form",
        )
    return row
