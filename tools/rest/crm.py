"""The CRM read over its HTTP service, answering exactly as SqlCrm does."""

from __future__ import annotations

from pydantic import TypeAdapter

from tools import identifiers as ids
from tools.errors import InvalidInput
from tools.models import (
    CONTACT_KINDS,
    ContactKind,
    CustomerHistory,
    CustomerProfile,
    CustomerRef,
)
from tools.rest.client import RestClient, segment

REFS_PER_REQUEST = 100

_PROFILE = TypeAdapter(CustomerProfile)
_HISTORY = TypeAdapter(CustomerHistory)
_REFS = TypeAdapter(list[CustomerRef])


class RestCrm:
    """CrmSystem over HTTP: GET /v1/customers..."""

    def __init__(self, client: RestClient) -> None:
        self.client = client

    async def get_profile(self, customer_id: str) -> CustomerProfile | None:
        # Path values are checked here: a "/" or ".." would change the route, not reach a check.
        path = f"/v1/customers/{segment(ids.customer_id(customer_id))}"
        return await self.client.get(path, _PROFILE)

    async def get_history(self, customer_id: str, limit: int = 50) -> CustomerHistory:
        path = f"/v1/customers/{segment(ids.customer_id(customer_id))}/history"
        found = await self.client.get(path, _HISTORY, {"limit": limit})
        return CustomerHistory(interactions=[], verifications=[]) if found is None else found

    async def find_by_contact(self, kind: ContactKind, normalized: str) -> list[CustomerRef]:
        if kind not in CONTACT_KINDS:
            raise InvalidInput("kind", f"expected one of {', '.join(CONTACT_KINDS)}")
        return await self.client.get("/v1/customers", _REFS, {kind: normalized}) or []

    async def find_by_name_postal(self, full_name: str, postal_code: str) -> list[CustomerRef]:
        params = {"name": full_name, "postal_code": postal_code}
        return await self.client.get("/v1/customers:by-name", _REFS, params) or []

    async def get_refs(self, customer_ids: list[str]) -> list[CustomerRef]:
        wanted = sorted(set(customer_ids))
        found: dict[str, CustomerRef] = {}
        for start in range(0, len(wanted), REFS_PER_REQUEST):
            chunk = ",".join(wanted[start : start + REFS_PER_REQUEST])
            for ref in await self.client.get("/v1/customers:refs", _REFS, {"ids": chunk}) or []:
                found[ref.customer_id] = ref
        return [found[key] for key in sorted(found)]

    async def aclose(self) -> None:
        """Close the pooled connections."""
        await self.client.aclose()
