"""The orders system's write actions as plans, each worked out inside the caller's transaction."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select

from tools import schema as s
from tools.actions import StartReturn
from tools.errors import InvalidInput, NotFound
from tools.sql.plan import Plan, money


def start_return(conn: Connection, request: StartReturn, key: str, now: datetime) -> Plan:
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
    what = f"{'a return' if kind == 'return' else 'an exchange'} of {item.name} from {number}"
    refund_note = f"; {money(refund)} refund once it is received" if refund else ""
    changes = {f"item {item.item_id}": f"not returned → {kind} requested"}
    if refund:
        changes["refund_amount"] = f"0.00 → {refund:.2f}"
    return Plan(
        customer_id=order.customer_ref,
        reference=return_id,
        will=f"Will start {what}{refund_note}",
        did=f"Started {what}{refund_note}",
        changes=changes,
        writes=(
            insert(s.returns).values(
                return_id=return_id,
                order_number=number,
                item_id=item.item_id,
                kind=kind,
                status="requested",
                requested_at=now,
                reason=request.reason,
                refund_amount=refund,
            ),
        ),
    )
