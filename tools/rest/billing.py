"""Billing read over its HTTP service, answering exactly as SqlBilling does."""

from __future__ import annotations

from pydantic import TypeAdapter

from tools import identifiers as ids
from tools.models import AccountRef, BillingAccount
from tools.rest.client import RestClient, segment

_ACCOUNT_REF = TypeAdapter(AccountRef)
_ACCOUNTS = TypeAdapter(list[BillingAccount])


class RestBilling:
    """BillingSystem over HTTP: GET /v1/accounts/{number}, /v1/customers/{id}/accounts."""

    def __init__(self, client: RestClient) -> None:
        self.client = client

    async def find_account(self, account_number: str) -> AccountRef | None:
        # Path values are checked here: a "/" or ".." would change the route, not reach a check.
        path = f"/v1/accounts/{segment(ids.account_number(account_number))}"
        return await self.client.get(path, _ACCOUNT_REF)

    async def get_customer_billing(self, customer_id: str) -> list[BillingAccount]:
        path = f"/v1/customers/{segment(ids.customer_id(customer_id))}/accounts"
        return await self.client.get(path, _ACCOUNTS) or []

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()
