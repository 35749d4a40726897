"""Billing over SQL."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from sqlalchemy import Engine, select
from sqlalchemy.engine import Connection

from tools import schema as s
from tools.models import (
    AccountRef,
    Adjustment,
    AutopayMandate,
    BillingAccount,
    Invoice,
    Line,
    Payment,
    Plan,
    UsageMonth,
)
from tools.sql.engine import without

HISTORY_MONTHS = 12


class SqlBilling:
    """The billing system's own database read with SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._plans: dict[str, Plan] | None = None

    async def aclose(self) -> None:
        """Close pooled database connections."""
        self.engine.dispose()

    async def find_account(self, account_number: str) -> AccountRef | None:
        return await asyncio.to_thread(self._find_account, account_number)

    async def get_customer_billing(self, customer_id: str) -> list[BillingAccount]:
        return await asyncio.to_thread(self._customer_billing, customer_id)

    def _find_account(self, account_number: str) -> AccountRef | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.accounts.c.account_number, s.accounts.c.crm_customer_id).where(
                    s.accounts.c.account_number == account_number
                )
            ).first()
        return None if row is None else AccountRef(account_number=row[0], customer_id=row[1])

    def _catalogue(self, conn: Connection) -> dict[str, Plan]:
        if self._plans is None:
            self._plans = {
                row.plan_code: Plan(**row._asdict()) for row in conn.execute(select(s.plans))
            }
        return self._plans

    def _customer_billing(self, customer_id: str) -> list[BillingAccount]:
        with self.engine.connect() as conn:
            plans = self._catalogue(conn)
            account_rows = conn.execute(
                select(s.accounts)
                .where(s.accounts.c.crm_customer_id == customer_id)
                .order_by(s.accounts.c.account_number)
            ).all()
            return [self._account(conn, row._asdict(), plans) for row in account_rows]

    def _account(
        self, conn: Connection, account: dict[str, object], plans: dict[str, Plan]
    ) -> BillingAccount:
        number = account["account_number"]
        line_rows = conn.execute(
            select(s.lines).where(s.lines.c.account_number == number).order_by(s.lines.c.line_id)
        ).all()
        line_ids = [r.line_id for r in line_rows]
        addons: dict[str, list[Plan]] = defaultdict(list)
        for r in conn.execute(
            select(s.line_addons)
            .where(s.line_addons.c.line_id.in_(line_ids))
            .order_by(s.line_addons.c.id)
        ):
            addons[r.line_id].append(plans[r.addon_code])
        usage: dict[str, list[UsageMonth]] = defaultdict(list)
        for r in conn.execute(
            select(s.usage)
            .where(s.usage.c.line_id.in_(line_ids))
            .order_by(s.usage.c.line_id, s.usage.c.month.desc())
        ):
            if len(usage[r.line_id]) < HISTORY_MONTHS:
                usage[r.line_id].append(UsageMonth(**without(r._asdict(), "line_id")))
        invoices = conn.execute(
            select(s.invoices)
            .where(s.invoices.c.account_number == number)
            .order_by(s.invoices.c.issued_at.desc())
            .limit(HISTORY_MONTHS)
        ).all()
        payments = conn.execute(
            select(s.payments)
            .where(s.payments.c.account_number == number)
            .order_by(s.payments.c.at.desc())
            .limit(HISTORY_MONTHS * 2)
        ).all()
        mandate = conn.execute(
            select(s.autopay_mandates)
            .where(s.autopay_mandates.c.account_number == number)
            .order_by(s.autopay_mandates.c.set_up_at.desc(), s.autopay_mandates.c.mandate_id.desc())
        ).first()
        adjustments = conn.execute(
            select(s.adjustments)
            .where(s.adjustments.c.account_number == number)
            .order_by(s.adjustments.c.at.desc())
            .limit(HISTORY_MONTHS * 2)
        ).all()
        drop = ("account_number",)
        return BillingAccount(
            account_number=str(number),
            customer_id=str(account["crm_customer_id"]),
            status=account["status"],
            opened_at=account["opened_at"],
            balance=account["balance"],
            currency=str(account["currency"]),
            lines=[
                Line(
                    **without(r._asdict(), "account_number", "plan_code"),
                    plan=plans[r.plan_code],
                    addons=addons[r.line_id],
                    usage=usage[r.line_id],
                )
                for r in line_rows
            ],
            invoices=[Invoice(**without(r._asdict(), *drop)) for r in invoices],
            payments=[Payment(**without(r._asdict(), *drop)) for r in payments],
            autopay=None
            if mandate is None
            else AutopayMandate(**without(mandate._asdict(), *drop)),
            adjustments=[Adjustment(**without(r._asdict(), *drop)) for r in adjustments],
        )
