"""Write actions over SQL: one transaction each, recorded once in the system's action log."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import datetime

from pydantic import TypeAdapter
from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    Engine,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
)
from sqlalchemy.exc import IntegrityError

from tools import schema as s
from tools.actions import (
    ActionOutcome,
    ActionPreview,
    ActionRequest,
    ChangePlan,
    PaymentMethod,
    PaymentMethodEntry,
    StartReturn,
    TakePayment,
    UpdateAutopay,
    WaiveLateFee,
    check_action_id,
    check_approver,
    checked,
    checked_entry,
    row_key,
    system_of,
)
from tools.errors import InvalidInput
from tools.sql.billing_actions import change_plan, take_payment, update_autopay, waive_late_fee
from tools.sql.orders_actions import start_return
from tools.sql.payment_methods import register
from tools.sql.plan import PREVIEW_KEY, Plan

_REQUEST: TypeAdapter[ActionRequest] = TypeAdapter(ActionRequest)
log_metadata = MetaData()
action_log = Table(
    "action_log",
    log_metadata,
    Column("action_id", String(64), primary_key=True),
    Column("kind", String(32), nullable=False),
    Column("request", Text, nullable=False, doc="the normalized request as JSON"),
    Column("approved_by", String(128), nullable=False),
    Column("at", DateTime, nullable=False),
    Column("outcome", Text, nullable=False, doc="the ActionOutcome as JSON"),
)


def _now() -> datetime:
    # Naive local time, as every timestamp of the demo systems is stored.
    return datetime.now().replace(microsecond=0)


class SqlActions:
    """ActionSystem over the billing and orders databases (SQLAlchemy Core)."""

    def __init__(
        self, billing: Engine, orders: Engine, *, clock: Callable[[], datetime] = _now
    ) -> None:
        self.engines = {"billing": billing, "orders": orders}
        self._clock = clock
        self._logs_ready: set[str] = set()
        self._lock = threading.Lock()

    async def aclose(self) -> None:
        """Close pooled database connections."""
        for engine in self.engines.values():
            engine.dispose()

    async def owner(self, request: ActionRequest) -> str | None:
        return await asyncio.to_thread(self._owner, checked(request))

    async def preview(self, request: ActionRequest) -> ActionPreview:
        return await asyncio.to_thread(self._preview, checked(request))

    async def perform(
        self, action_id: str, request: ActionRequest, approved_by: str
    ) -> ActionOutcome:
        wanted = _Wanted(action_id, checked(request), check_approver(approved_by))
        return await asyncio.to_thread(self._perform, wanted)

    async def register_payment_method(self, entry: PaymentMethodEntry) -> PaymentMethod:
        return await asyncio.to_thread(self._register, checked_entry(entry))

    def _owner(self, request: ActionRequest) -> str | None:
        if isinstance(request, StartReturn):
            query = select(s.orders.c.customer_ref).where(
                s.orders.c.order_number == request.order_number
            )
        elif isinstance(request, ChangePlan):
            query = (
                select(s.accounts.c.crm_customer_id)
                .join(s.lines, s.lines.c.account_number == s.accounts.c.account_number)
                .where(s.lines.c.line_id == request.line_id)
            )
        else:
            query = select(s.accounts.c.crm_customer_id).where(
                s.accounts.c.account_number == request.account_number
            )
        with self.engines[system_of(request)].connect() as conn:
            found = conn.execute(query).scalar()
        return None if found is None else str(found)

    def _preview(self, request: ActionRequest) -> ActionPreview:
        # The plan's reads in a transaction that is rolled back: nothing is written.
        with self.engines[system_of(request)].connect() as conn:
            plan = _plan(conn, request, PREVIEW_KEY, self._clock())
        return ActionPreview(kind=request.kind, message=plan.will, changes=plan.changes)

    def _register(self, entry: PaymentMethodEntry) -> PaymentMethod:
        with self.engines["billing"].begin() as conn:
            return register(conn, entry, self._clock())

    def _perform(self, wanted: _Wanted) -> ActionOutcome:
        system = system_of(wanted.request)
        engine = self.engines[system]
        self._ensure_log(system)
        try:
            with engine.begin() as conn:
                done = _logged(conn, wanted)
                if done is not None:
                    return done
                plan = _plan(conn, wanted.request, row_key(wanted.action_id), self._clock())
                plan.write(conn)
                outcome = ActionOutcome(
                    action_id=wanted.action_id,
                    kind=wanted.request.kind,
                    customer_id=plan.customer_id,
                    reference=plan.reference,
                    message=plan.did,
                    changes=plan.changes,
                )
                conn.execute(
                    insert(action_log).values(
                        action_id=wanted.action_id,
                        kind=wanted.request.kind,
                        request=wanted.request_json,
                        approved_by=wanted.approved_by,
                        at=self._clock(),
                        outcome=outcome.model_dump_json(),
                    )
                )
            return outcome
        except IntegrityError:
            # The same action performed at the same moment elsewhere: its row ids or log entry
            # collided with ours and our transaction rolled back. Answer with its outcome.
            with engine.connect() as conn:
                done = _logged(conn, wanted)
            if done is None:
                raise
            return done

    def _ensure_log(self, system: str) -> None:
        with self._lock:
            if system not in self._logs_ready:
                with self.engines[system].begin() as conn:
                    action_log.create(conn, checkfirst=True)
                self._logs_ready.add(system)


class _Wanted:
    """A validated perform() call."""

    def __init__(self, raw_id: str, request: ActionRequest, approved_by: str) -> None:
        self.action_id = check_action_id(raw_id)
        self.request = request
        self.approved_by = approved_by
        self.request_json = _REQUEST.dump_json(request).decode()


def _logged(conn: Connection, wanted: _Wanted) -> ActionOutcome | None:
    row = conn.execute(
        select(action_log.c.request, action_log.c.outcome).where(
            action_log.c.action_id == wanted.action_id
        )
    ).first()
    if row is None:
        return None
    if row.request != wanted.request_json:
        raise InvalidInput("action_id", f"{wanted.action_id} was already used for another action")
    return ActionOutcome.model_validate_json(row.outcome)


def _plan(conn: Connection, request: ActionRequest, key: str, now: datetime) -> Plan:
    if isinstance(request, UpdateAutopay):
        return update_autopay(conn, request, key, now)
    if isinstance(request, TakePayment):
        return take_payment(conn, request, key, now)
    if isinstance(request, WaiveLateFee):
        return waive_late_fee(conn, request, key, now)
    if isinstance(request, ChangePlan):
        return change_plan(conn, request, key, now)
    return start_return(conn, request, key, now)
