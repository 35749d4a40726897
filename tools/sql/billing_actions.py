"""The billing system's write actions, each run inside the caller's one transaction."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Row, insert, select, update

from tools import schema as s
from tools.actions import ChangePlan, TakePayment, UpdateAutopay, WaiveLateFee
from tools.errors import InvalidInput, NotFound

CENT = 0.005
_FEE_ID_RE = re.compile(r"\bADJ-[A-Za-z0-9-]+")


@dataclass(frozen=True)
class Written:
    """What one action wrote, before it is stamped with its action id."""

    customer_id: str
    reference: str
    message: str
    changes: dict[str, str]


def money(value: float) -> str:
    return f"${value:,.2f}"


def update_autopay(conn: Connection, request: UpdateAutopay, key: str, now: datetime) -> Written:
    """Mandate back to active with no failure; a past-due invoice is left for take_payment."""
    number = request.account_number
    account = _account(conn, number)
    mandate = _mandate(conn, number)
    if mandate is None:
        raise InvalidInput("account_number", f"{number} has no autopay mandate to re-activate")
    if mandate.status == "active" and mandate.last_failure_reason is None:
        raise InvalidInput("account_number", f"autopay on {number} is already active")
    conn.execute(
        update(s.autopay_mandates)
        .where(s.autopay_mandates.c.mandate_id == mandate.mandate_id)
        .values(status="active", last_failure_reason=None)
    )
    overdue = sum(_unpaid(i) for i in _bills(conn, number) if i.status == "past_due")
    still = f"; {money(overdue)} is still past due" if overdue > CENT else ""
    return Written(
        customer_id=account.crm_customer_id,
        reference=mandate.mandate_id,
        message=f"Re-activated autopay on {number} ({_card(mandate)}){still}",
        changes={
            "autopay": f"{mandate.status} → active",
            "last_failure_reason": f"{mandate.last_failure_reason or 'none'} → none",
        },
    )


def take_payment(conn: Connection, request: TakePayment, key: str, now: datetime) -> Written:
    """Charge the mandate card, oldest past-due invoice first, then open ones."""
    number = request.account_number
    account = _account(conn, number)
    mandate = _mandate(conn, number)
    if mandate is None or mandate.status != "active":
        state = "no autopay card" if mandate is None else f"autopay {mandate.status}"
        raise InvalidInput("account_number", f"{number} has {state}: update autopay first")
    bills = sorted(_bills(conn, number), key=lambda i: (i.status != "past_due", i.due_date))
    overdue = round(sum(_unpaid(i) for i in bills if i.status == "past_due"), 2)
    balance = float(account.balance)
    if balance < CENT or (request.amount is None and overdue < CENT):
        raise InvalidInput("account_number", f"{number} has nothing past due to pay")
    amount = overdue if request.amount is None else request.amount
    if amount > balance + CENT:
        raise InvalidInput("amount", f"{money(amount)} is more than the {money(balance)} owed")
    changes: dict[str, str] = {}
    left = amount
    for bill in bills:
        pay = min(_unpaid(bill), left)
        if pay < CENT:
            continue
        paid = round(bill.amount_paid + pay, 2)
        status = "paid" if paid > bill.amount - CENT else bill.status
        conn.execute(
            update(s.invoices)
            .where(s.invoices.c.invoice_id == bill.invoice_id)
            .values(amount_paid=paid, status=status)
        )
        changes[bill.invoice_id] = (
            f"{bill.status} → {status}"
            if status != bill.status
            else (f"{money(paid)} of {money(bill.amount)} paid")
        )
        left = round(left - pay, 2)
    payment_id = f"PAY-{key}"
    conn.execute(
        insert(s.payments).values(
            payment_id=payment_id,
            account_number=number,
            invoice_id=next(iter(changes), None),
            at=now,
            amount=amount,
            method="card",
            status="succeeded",
            failure_reason=None,
        )
    )
    changes = {"balance": _set_balance(conn, number, balance, -amount), **changes}
    settled = [invoice for invoice, change in changes.items() if change.endswith("→ paid")]
    paid_note = f"; {', '.join(settled)} paid" if settled else ""
    return Written(
        customer_id=account.crm_customer_id,
        reference=payment_id,
        message=f"Charged {money(amount)} to {_card(mandate)} on {number}{paid_note}",
        changes=changes,
    )


def waive_late_fee(conn: Connection, request: WaiveLateFee, key: str, now: datetime) -> Written:
    """Credit the newest late fee no credit points at yet, by its id or by its invoice."""
    number = request.account_number
    account = _account(conn, number)
    rows = conn.execute(
        select(s.adjustments)
        .where(s.adjustments.c.account_number == number)
        .order_by(s.adjustments.c.at.desc(), s.adjustments.c.adjustment_id.desc())
    ).all()
    credits = [a for a in rows if a.kind == "credit"]
    fee = next(
        (
            a
            for a in rows
            if a.kind == "late_fee"
            and request.invoice_id in (None, a.invoice_id)
            and not _credited(a, credits)
        ),
        None,
    )
    if fee is None:
        field, where = (
            ("invoice_id", request.invoice_id)
            if request.invoice_id
            else (
                "account_number",
                number,
            )
        )
        raise InvalidInput(field, f"no late fee left to waive on {where}")
    adjustment_id = f"ADJ-{key}"
    # Credits are stored as positive amounts of kind "credit", as the demo data stores them.
    conn.execute(
        insert(s.adjustments).values(
            adjustment_id=adjustment_id,
            account_number=number,
            kind="credit",
            amount=fee.amount,
            reason=f"Late fee waived ({fee.adjustment_id})",
            at=now,
            invoice_id=fee.invoice_id,
        )
    )
    return Written(
        customer_id=account.crm_customer_id,
        reference=adjustment_id,
        message=f"Credited the {money(fee.amount)} late fee on {number}",
        changes={
            "balance": _set_balance(conn, number, float(account.balance), -fee.amount),
            fee.adjustment_id: "credited",
        },
    )


def change_plan(conn: Connection, request: ChangePlan, key: str, now: datetime) -> Written:
    """Move a line to another plan of kind 'plan'."""
    line = conn.execute(
        select(s.lines, s.accounts.c.crm_customer_id)
        .join(s.accounts, s.accounts.c.account_number == s.lines.c.account_number)
        .where(s.lines.c.line_id == request.line_id)
        .with_for_update()
    ).first()
    if line is None:
        raise NotFound(f"no line {request.line_id}")
    plans = {p.plan_code: p for p in conn.execute(select(s.plans))}
    new = plans.get(request.plan_code)
    if new is None:
        offered = ", ".join(sorted(code for code, p in plans.items() if p.kind == "plan"))
        raise InvalidInput("plan_code", f"no plan {request.plan_code}; plans are {offered}")
    if new.kind != "plan":
        raise InvalidInput("plan_code", f"{new.plan_code} ({new.name}) is an add-on, not a plan")
    old = plans[line.plan_code]
    if old.plan_code == new.plan_code:
        raise InvalidInput("plan_code", f"line {line.line_id} is already on {new.name}")
    conn.execute(
        update(s.lines).where(s.lines.c.line_id == line.line_id).values(plan_code=new.plan_code)
    )
    return Written(
        customer_id=line.crm_customer_id,
        reference=line.line_id,
        message=f"Moved line {line.msisdn} from {old.name} to {new.name}",
        changes={
            "plan": f"{old.name} → {new.name}",
            "monthly_fee": f"{old.monthly_fee:.2f} → {new.monthly_fee:.2f}",
        },
    )


def _account(conn: Connection, number: str) -> Row[Any]:
    row = conn.execute(
        select(s.accounts).where(s.accounts.c.account_number == number).with_for_update()
    ).first()
    if row is None:
        raise NotFound(f"no account {number}")
    return row


def _mandate(conn: Connection, number: str) -> Row[Any] | None:
    return conn.execute(
        select(s.autopay_mandates)
        .where(s.autopay_mandates.c.account_number == number)
        .order_by(s.autopay_mandates.c.set_up_at.desc())
        .limit(1)
        .with_for_update()
    ).first()


def _bills(conn: Connection, number: str) -> list[Row[Any]]:
    return list(
        conn.execute(
            select(s.invoices)
            .where(s.invoices.c.account_number == number)
            .where(s.invoices.c.status.in_(("past_due", "open")))
        ).all()
    )


def _unpaid(invoice: Row[Any]) -> float:
    return round(float(invoice.amount) - float(invoice.amount_paid), 2)


def _card(mandate: Row[Any]) -> str:
    return f"{mandate.card_brand} ending {mandate.card_last4}" if mandate.card_last4 else "card"


def _credited(fee: Row[Any], credits: list[Row[Any]]) -> bool:
    """A credit names the fee it reverses, or (naming none) mentions a late fee on its invoice."""
    for credit in credits:
        named = _FEE_ID_RE.findall(credit.reason)
        if fee.adjustment_id in named:
            return True
        on_invoice = credit.invoice_id is not None and credit.invoice_id == fee.invoice_id
        if not named and on_invoice and "late fee" in credit.reason.lower():
            return True
    return False


def _set_balance(conn: Connection, number: str, balance: float, delta: float) -> str:
    after = round(balance + delta, 2)
    conn.execute(
        update(s.accounts).where(s.accounts.c.account_number == number).values(balance=after)
    )
    return f"{balance:.2f} → {after:.2f}"
