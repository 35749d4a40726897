"""Write actions over SQL: one transaction each, recorded once in the system's action log."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import asdict
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
    ActionRequest,
    ChangePlan,
    StartReturn,
    TakePayment,
    UpdateAutopay,
    WaiveLateFee,
    check_action_id,
    check_approver,
    checked,
    row_key,
    system_of,
)
from tools.errors import InvalidInput, NotFound
from tools.sql.billing_actions import (
    Written,
    change_plan,
    money,
    take_payment,
    update_autopay,
    waive_late_fee,
)

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

    async def perform(
        self, action_id: str, request: ActionRequest, approved_by: str
    ) -> ActionOutcome:
        wanted = _Wanted(action_id, checked(request), check_approver(approved_by))
        return await asyncio.to_thread(self._perform, wanted)

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

    def _perform(self, wanted: _Wanted) -> ActionOutcome:
        system = system_of(wanted.request)
        engine = self.engines[system]
        self._ensure_log(system)
        try:
            with engine.begin() as conn:
                done = _logged(conn, wanted)
                if done is not None:
                    return done
                written = _write(conn, wanted.request, row_key(wanted.action_id), self._clock())
                outcome = ActionOutcome(
                    action_id=wanted.action_id, kind=wanted.request.kind, **asdict(written)
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


def _write(conn: Connection, request: ActionRequest, key: str, now: datetime) -> Written:
    if isinstance(request, UpdateAutopay):
        return update_autopay(conn, request, key, now)
    if isinstance(request, TakePayment):
        return take_payment(conn, request, key, now)
    if isinstance(request, WaiveLateFee):
        return waive_late_fee(conn, request, key, now)
    if isinstance(request, ChangePlan):
        return change_plan(conn, request, key, now)
    return start_return(conn, request, key, now)


def start_return(conn: Connection, request: StartReturn, key: str, now: datetime) -> Written:
    """A requested return (refund of unit price x quantity) or exchange (no refund)."""
    number = request.order_number
    order = conn.execute(
        select(s.orders.c.customer_ref).where(s.orders.c.order_number == number).with_for_update()
    ).first()
    if order is None:
        raise NotFound(f"no order {number}")
    if order.customer_ref is None:
        raise InvalidInput("order_number", f"order {number} is not linked to a customer")
    item = conn.execute(
        select(s.order_items).where(
            s.order_items.c.item_id == request.item_id, s.order_items.c.order_number == number
        )
    ).first()
    if item is None:
        raise InvalidInput("item_id", f"item {request.item_id} is not in order {number}")
    earlier = conn.execute(
        select(s.returns).where(
            s.returns.c.item_id == item.item_id, s.returns.c.status != "rejected"
        )
    ).first()
    if earlier is not None:
        raise InvalidInput(
            "item_id",
            f"item {item.item_id} already has a {earlier.kind} "
            f"({earlier.return_id}, {earlier.status})",
        )
    kind = "return" if request.kind == "start_return" else "exchange"
    refund = round(item.unit_price * item.quantity, 2) if kind == "return" else 0.0
    return_id = f"RET-{key}"
    conn.execute(
        insert(s.returns).values(
            return_id=return_id,
            order_number=number,
            item_id=item.item_id,
            kind=kind,
            status="requested",
            requested_at=now,
            reason=request.reason,
            refund_amount=refund,
        )
    )
    refund_note = f"; {money(refund)} refund once it is received" if refund else ""
    return Written(
        customer_id=order.customer_ref,
        reference=return_id,
        message=f"Started {'a return' if kind == 'return' else 'an exchange'} of "
        f"{item.name} from {number}{refund_note}",
        changes={return_id: f"{kind} requested", "refund_amount": f"{refund:.2f}"},
    )
