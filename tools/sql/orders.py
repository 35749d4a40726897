"""Orders and store purchases over SQL."""

from __future__ import annotations

import asyncio
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Engine, Select, Table, func, select

from tools import schema as s
from tools.models import (
    CustomerOrders,
    Order,
    OrderItem,
    OrderRef,
    ReturnPolicy,
    ReturnRecord,
    Shipment,
)
from tools.sql.engine import without

M = TypeVar("M", bound=BaseModel)
_REF_COLUMNS = (
    s.orders.c.order_number,
    s.orders.c.customer_ref.label("customer_id"),
    s.orders.c.placed_at,
    s.orders.c.total,
    s.orders.c.card_last4,
    s.orders.c.channel,
    s.stores.c.name.label("store"),
)


class SqlOrders:
    """The order system's own database read with SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def aclose(self) -> None:
        """Close pooled database connections."""
        self.engine.dispose()

    async def find_order(self, order_number: str) -> OrderRef | None:
        refs = await asyncio.to_thread(
            self._refs, self._ref_query().where(s.orders.c.order_number == order_number)
        )
        return refs[0] if refs else None

    async def find_card_purchases(
        self, card_last4: str, on: date, amount: float, tolerance_days: int = 1
    ) -> list[OrderRef]:
        window = timedelta(days=tolerance_days)
        query = (
            self._ref_query()
            .where(s.orders.c.card_last4 == card_last4)
            .where(s.orders.c.purchase_date.between(on - window, on + window))
            # Cents, not floats: a 0.005 tolerance absorbs binary rounding of stored amounts.
            .where(func.abs(s.orders.c.total - amount) < 0.005)
            .order_by(s.orders.c.placed_at)
        )
        return await asyncio.to_thread(self._refs, query)

    async def get_customer_orders(self, customer_id: str, limit: int = 20) -> CustomerOrders:
        return await asyncio.to_thread(self._customer_orders, customer_id, limit)

    @staticmethod
    def _ref_query() -> Select[Any]:
        return select(*_REF_COLUMNS).outerjoin(s.stores, s.stores.c.store_id == s.orders.c.store_id)

    def _refs(self, query: Select[Any]) -> list[OrderRef]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [OrderRef(**r._asdict()) for r in rows]

    def _customer_orders(self, customer_id: str, limit: int) -> CustomerOrders:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(s.orders, s.stores.c.name.label("store_name"))
                .outerjoin(s.stores, s.stores.c.store_id == s.orders.c.store_id)
                .where(s.orders.c.customer_ref == customer_id)
                .order_by(s.orders.c.placed_at.desc())
                .limit(limit)
            ).all()
            numbers = [r.order_number for r in rows]
            items = _by_order(conn, s.order_items, numbers, OrderItem)
            ships = _by_order(conn, s.shipments, numbers, Shipment)
            rets = _by_order(conn, s.returns, numbers, ReturnRecord)
            policies = [
                ReturnPolicy(**r._asdict())
                for r in conn.execute(
                    select(s.return_policies).order_by(s.return_policies.c.category)
                )
            ]
        orders = [
            Order(
                order_number=r.order_number,
                channel=r.channel,
                customer_id=r.customer_ref,
                store=r.store_name,
                placed_at=r.placed_at,
                status=r.status,
                total=r.total,
                card_brand=r.card_brand,
                card_last4=r.card_last4,
                receipt_issued=r.receipt_issued,
                items=items[r.order_number],
                shipments=ships[r.order_number],
                returns=rets[r.order_number],
            )
            for r in rows
        ]
        return CustomerOrders(orders=orders, policies=policies)


def _by_order(
    conn: Connection, table: Table, numbers: list[str], model: type[M]
) -> dict[str, list[M]]:
    """Child rows of the given orders, grouped by order and in key order."""
    out: dict[str, list[M]] = defaultdict(list)
    query = select(table).where(table.c.order_number.in_(numbers)).order_by(*table.primary_key)
    for r in conn.execute(query):
        out[r.order_number].append(model(**without(r._asdict(), "order_number")))
    return out
