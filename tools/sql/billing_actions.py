"""The billing system's write actions as plans, each worked out inside the caller's transaction."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Executable, Row, Update, insert, select, update

from tools import cards
from tools import schema as s
from tools.actions import ChangePlan, TakePayment, UpdateAutopay, WaiveLateFee
from tools.errors import InvalidInput, NotFound
from tools.sql.payment_methods import registered
from tools.sql.plan import Plan, money, plural

CENT = 0.005
_FEE_ID_RE = re.compile(r"\bADJ-[A-Za-z0-9-]+")


def update_autopay(conn: Connection, request: UpdateAutopay, key: str, now: datetime) -> Plan:
    """Autopay on the token's card, active with no failure; a past-due bill is left as it is."""
    number = request.account_number
    account = _account(conn, number)
    card = registered(conn, request.payment_method, number)
    today = now.date()
    expiry = cards.expiry_text(card.exp_month, card.exp_year)
    if cards.expired(card.exp_month, card.exp_year, today):
        raise InvalidInput(
            "payment_method",
            f"{cards.card_words(card.card_brand, card.card_last4)} expired {expiry}: "
            "ask the customer for another card in the secure payment form",
        )
    values = {
        "method": "card",
        "card_brand": card.card_brand,
        "card_last4": card.card_last4,
        "card_expiry": expiry,
        "status": "active",
        "last_failure_reason": None,
    }
    new = cards.card_phrase(card.card_brand, card.card_last4, expiry, today)
    mandate = _mandate(conn, number)
    changes: dict[str, str] = {}
    if mandate is None:
        reference, before, move = f"MAN-{key}", "none", f"set up autopay on {number} with {new}"
        write: Executable = insert(s.autopay_mandates).values(
            mandate_id=reference, account_number=number, set_up_at=today, **values
        )
    else:
        if {k: mandate._mapping[k] for k in values} == values:
            raise InvalidInput("payment_method", f"autopay on {number} is already active on {new}")
        old = (mandate.card_brand, mandate.card_last4, mandate.card_expiry, today)
        reference, before = mandate.mandate_id, f"{mandate.status} ({cards.card_state(*old)})"
        move = f"move autopay on {number} from {cards.card_phrase(*old)} to {new}"
        write = (
            update(s.autopay_mandates)
            .where(s.autopay_mandates.c.mandate_id == mandate.mandate_id)
            .values(**values)
        )
        if mandate.last_failure_reason:
            changes["last_failure_reason"] = f"{mandate.last_failure_reason} → none"
    after = cards.card_state(card.card_brand, card.card_last4, expiry, today)
    overdue = sum(_unpaid(i) for i in _bills(conn, number) if i.status == "past_due")
    stays = still = ""
    if overdue > CENT:
        stays, still = f"; {money(overdue)} stays past due", f"; {money(overdue)} is still past due"
    return Plan(
        customer_id=account.crm_customer_id,
        reference=reference,
        will=f"Will {move}{stays}",
        did=f"Set up autopay on {number} with {new}{still}",
        changes={"autopay": f"{before} → active ({after})", **changes},
        writes=(write,),
    )


def take_payment(conn: Connection, request: TakePayment, key: str, now: datetime) -> Plan:
    """Charge the autopay card on file, oldest past-due invoice first, then open ones."""
    number = request.account_number
    account = _account(conn, number)
    mandate = _mandate(conn, number)
    if mandate is None or mandate.status != "active":
        state = "no autopay card" if mandate is None else f"autopay {mandate.status}"
        raise InvalidInput("account_number", f"{number} has {state}: update autopay first")
    card = cards.card_words(mandate.card_brand, mandate.card_last4)
    expiry = cards.expiry_of(mandate.card_expiry)
    if expiry is not None and cards.expired(*expiry, now.date()):
        raise InvalidInput(
            "account_number",
            f"the autopay card on {number}, {card}, expired {mandate.card_expiry}: "
            "update autopay first",
        )
    bills = sorted(_bills(conn, number), key=lambda i: (i.status != "past_due", i.due_date))
    overdue = round(sum(_unpaid(i) for i in bills if i.status == "past_due"), 2)
    balance = float(account.balance)
    if balance < CENT or (request.amount is None and overdue < CENT):
        raise InvalidInput("account_number", f"{number} has nothing past due to pay")
    amount = overdue if request.amount is None else request.amount
    if amount > balance + CENT:
        raise InvalidInput("amount", f"{money(amount)} is more than the {money(balance)} owed")
    changes: dict[str, str] = {}
    writes: list[Executable] = []
    settled: list[str] = []
    left = amount
    for bill in bills:
        pay = min(_unpaid(bill), left)
        if pay < CENT:
            continue
        paid = round(bill.amount_paid + pay, 2)
        status = "paid" if paid > bill.amount - CENT else bill.status
        writes.append(
            update(s.invoices)
            .where(s.invoices.c.invoice_id == bill.invoice_id)
            .values(amount_paid=paid, status=status)
        )
        if status != bill.status:
            changes[bill.invoice_id] = f"{bill.status} → {status}"
            settled.append(bill.invoice_id)
        else:
            changes[bill.invoice_id] = (
                f"{money(bill.amount_paid)} → {money(paid)} of {money(bill.amount)} paid"
            )
        left = round(left - pay, 2)
    payment_id = f"PAY-{key}"
    writes.append(
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
    set_balance, balance_change = _balance(number, balance, -amount)
    marked = f" and mark {plural(len(settled), 'invoice')} paid" if settled else ""
    paid_note = f"; {', '.join(settled)} paid" if settled else ""
    return Plan(
        customer_id=account.crm_customer_id,
        reference=payment_id,
        will=f"Will charge {money(amount)} to {card} on {number}{marked}",
        did=f"Charged {money(amount)} to {card} on {number}{paid_note}",
        changes={"balance": balance_change, **changes},
        writes=(*writes, set_balance),
    )


def waive_late_fee(conn: Connection, request: WaiveLateFee, key: str, now: datetime) -> Plan:
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
            ("invoice_id", request.invoice_id) if request.invoice_id else ("account_number", number)
        )
        raise InvalidInput(field, f"no late fee left to waive on {where}")
    adjustment_id = f"ADJ-{key}"
    # Credits are stored as positive amounts of kind "credit", as the demo data stores them.
    credit = insert(s.adjustments).values(
        adjustment_id=adjustment_id,
        account_number=number,
        kind="credit",
        amount=fee.amount,
        reason=f"Late fee waived ({fee.adjustment_id})",
        at=now,
        invoice_id=fee.invoice_id,
    )
    set_balance, balance_change = _balance(number, float(account.balance), -fee.amount)
    what = f"the {money(fee.amount)} late fee on {number}"
    return Plan(
        customer_id=account.crm_customer_id,
        reference=adjustment_id,
        will=f"Will credit {what}",
        did=f"Credited {what}",
        changes={"balance": balance_change, fee.adjustment_id: "not credited → credited"},
        writes=(credit, set_balance),
    )


def change_plan(conn: Connection, request: ChangePlan, key: str, now: datetime) -> Plan:
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
    move = f"line {line.msisdn} from {old.name} to {new.name}"
    to_new = update(s.lines).where(s.lines.c.line_id == line.line_id)
    return Plan(
        customer_id=line.crm_customer_id,
        reference=line.line_id,
        will=f"Will move {move}",
        did=f"Moved {move}",
        changes={
            "plan": f"{old.name} → {new.name}",
            "monthly_fee": f"{old.monthly_fee:.2f} → {new.monthly_fee:.2f}",
        },
        writes=(to_new.values(plan_code=new.plan_code),),
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
        .order_by(s.autopay_mandates.c.set_up_at.desc(), s.autopay_mandates.c.mandate_id.desc())
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


def _balance(number: str, balance: float, delta: float) -> tuple[Update, str]:
    after = round(balance + delta, 2)
    statement = (
        update(s.accounts).where(s.accounts.c.account_number == number).values(balance=after)
    )
    return statement, f"{balance:.2f} → {after:.2f}"
