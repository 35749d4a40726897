"""Write actions over the systems' HTTP services, answering exactly as SqlActions does."""

from __future__ import annotations

from pydantic import TypeAdapter

from tools.actions import (
    ActionBody,
    ActionOutcome,
    ActionPreview,
    ActionRequest,
    OwnerAnswer,
    PaymentMethod,
    PaymentMethodEntry,
    RequestBody,
    check_action_id,
    check_approver,
    checked,
    checked_entry,
    system_of,
    target_of,
)
from tools.errors import NotFound, SystemUnavailable
from tools.rest.client import RestClient

_OUTCOME = TypeAdapter(ActionOutcome)
_PREVIEW = TypeAdapter(ActionPreview)
_OWNER = TypeAdapter(OwnerAnswer)
_METHOD = TypeAdapter(PaymentMethod)


class RestActions:
    """ActionSystem over HTTP: POST /v1/actions, :owner and :preview on billing or orders, and
    POST /v1/payment-methods on billing."""

    def __init__(self, billing_client: RestClient, orders_client: RestClient) -> None:
        self.clients = {"billing": billing_client, "orders": orders_client}

    async def owner(self, request: ActionRequest) -> str | None:
        wanted = checked(request)
        client = self.clients[system_of(wanted)]
        body = RequestBody(request=wanted).model_dump(mode="json")
        found = await client.post("/v1/actions:owner", body, _OWNER)
        if found is None:
            # The route answers null for a missing target; a 404 means a broken contract.
            raise SystemUnavailable(client.system, "POST /v1/actions:owner answered 404")
        return found.customer_id

    async def preview(self, request: ActionRequest) -> ActionPreview:
        wanted = checked(request)
        body = RequestBody(request=wanted).model_dump(mode="json")
        found = await self.clients[system_of(wanted)].post("/v1/actions:preview", body, _PREVIEW)
        if found is None:
            raise NotFound(f"no {target_of(wanted)}")
        return found

    async def perform(
        self, action_id: str, request: ActionRequest, approved_by: str
    ) -> ActionOutcome:
        wanted = checked(request)
        body = ActionBody(
            action_id=check_action_id(action_id),
            approved_by=check_approver(approved_by),
            request=wanted,
        ).model_dump(mode="json")
        outcome = await self.clients[system_of(wanted)].post("/v1/actions", body, _OUTCOME)
        if outcome is None:
            raise NotFound(f"no {target_of(wanted)}")
        return outcome

    async def register_payment_method(self, entry: PaymentMethodEntry) -> PaymentMethod:
        # Retried like any POST: a retry after a lost answer registers a second token for the
        # same card, which is harmless (the first is never used).
        wanted = checked_entry(entry)
        body = wanted.model_dump(mode="json")
        found = await self.clients["billing"].post("/v1/payment-methods", body, _METHOD)
        if found is None:
            raise NotFound(f"no account {wanted.account_number}")
        return found

    async def aclose(self) -> None:
        """Close the pooled connections."""
        for client in self.clients.values():
            await client.aclose()
