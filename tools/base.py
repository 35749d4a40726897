"""One typed seam per siloed system. Every backend (SQL, REST) implements these Protocols."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Protocol

from tools.actions import ActionSystem
from tools.models import (
    AccountRef,
    BillingAccount,
    ContactKind,
    CustomerHistory,
    CustomerOrders,
    CustomerProfile,
    CustomerRef,
    OrderRef,
)


class CrmSystem(Protocol):
    """Customers, contact points, addresses, consent, interactions and verifications."""

    async def get_profile(self, customer_id: str) -> CustomerProfile | None: ...

    async def get_history(self, customer_id: str, limit: int = 50) -> CustomerHistory: ...

    async def find_by_contact(self, kind: ContactKind, normalized: str) -> list[CustomerRef]: ...

    async def find_by_name_postal(self, full_name: str, postal_code: str) -> list[CustomerRef]: ...

    async def get_refs(self, customer_ids: list[str]) -> list[CustomerRef]: ...


class BillingSystem(Protocol):
    """Accounts, plans, invoices, payments, autopay, adjustments and usage."""

    async def find_account(self, account_number: str) -> AccountRef | None: ...

    async def get_customer_billing(self, customer_id: str) -> list[BillingAccount]: ...


class OrdersSystem(Protocol):
    """Online orders and in-store purchases, shipments and returns."""

    async def find_order(self, order_number: str) -> OrderRef | None: ...

    async def find_card_purchases(
        self, card_last4: str, on: date, amount: float, tolerance_days: int = 1
    ) -> list[OrderRef]: ...

    async def get_customer_orders(self, customer_id: str, limit: int = 20) -> CustomerOrders: ...


@dataclass(frozen=True)
class Systems:
    """The three systems a copilot talks to, whatever their backend, and their write actions."""

    crm: CrmSystem
    billing: BillingSystem
    orders: OrdersSystem
    actions: ActionSystem | None = None

    async def aclose(self) -> None:
        """Release pooled connections (REST clients, SQL engines)."""
        for system in (self.crm, self.billing, self.orders, self.actions):
            close = getattr(system, "aclose", None)
            if close is not None:
                await close()
