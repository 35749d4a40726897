"""Orders read over their HTTP service, answering exactly as SqlOrders does."""

from __future__ import annotations

from datetime import date

from pydantic import TypeAdapter

from tools import identifiers as ids
from tools.errors import SystemUnavailable
from tools.models import CustomerOrders, OrderRef
from tools.rest.client import RestClient, segment

_ORDER_REF = TypeAdapter(OrderRef)
_ORDER_REFS = TypeAdapter(list[OrderRef])
_ORDERS = TypeAdapter(CustomerOrders)


class RestOrders:
    """OrdersSystem over HTTP: GET /v1/orders/{number}, /v1/purchases, /v1/customers/{id}/orders."""

    def __init__(self, client: RestClient) -> None:
        self.client = client

    async def find_order(self, order_number: str) -> OrderRef | None:
        # Path values are checked here: a "/" or ".." would change the route, not reach a check.
        path = f"/v1/orders/{segment(ids.order_number(order_number))}"
        return await self.client.get(path, _ORDER_REF)

    async def find_card_purchases(
        self, card_last4: str, on: date, amount: float, tolerance_days: int = 1
    ) -> list[OrderRef]:
        params: dict[str, str | int] = {
            "card_last4": card_last4,
            "date": on.isoformat(),
            "amount": repr(amount),
            "tolerance_days": tolerance_days,
        }
        return await self.client.get("/v1/purchases", _ORDER_REFS, params) or []

    async def get_customer_orders(self, customer_id: str, limit: int = 20) -> CustomerOrders:
        path = f"/v1/customers/{segment(ids.customer_id(customer_id))}/orders"
        found = await self.client.get(path, _ORDERS, {"limit": limit})
        if found is None:
            # The service lists no orders rather than 404; a 404 here means a broken contract.
            raise SystemUnavailable("orders", f"GET {path} answered 404 instead of a listing")
        return found

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()
