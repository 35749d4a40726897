"""Routes of the demo systems: each Protocol method as one GET, actions as POSTs, all checked."""

from __future__ import annotations

from typing import Annotated, TypeVar, cast

from fastapi import APIRouter, Query
from pydantic import BaseModel, TypeAdapter
from starlette.responses import Response

from tools import identifiers as ids
from tools.actions import (
    ActionBody,
    ActionOutcome,
    ActionPreview,
    ActionSystem,
    ActionTarget,
    OwnerAnswer,
    PaymentMethod,
    PaymentMethodEntry,
    RequestBody,
    system_of,
)
from tools.base import BillingSystem, CrmSystem, OrdersSystem
from tools.errors import InvalidInput, NotFound
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

MAX_REFS = 100
_REFS = TypeAdapter(list[CustomerRef])
_ACCOUNTS = TypeAdapter(list[BillingAccount])
_ORDER_REFS = TypeAdapter(list[OrderRef])
_CONTACT = {"phone": ids.phone, "email": ids.email, "social": ids.social_handle}
T = TypeVar("T")


def _json(adapter: TypeAdapter[T], value: T) -> Response:
    # Serialized once by pydantic; a response_model pass would validate everything again.
    return Response(adapter.dump_json(value), media_type="application/json")


def _model(value: BaseModel | None, missing: str) -> Response:
    if value is None:
        raise NotFound(f"no {missing}")
    return Response(value.model_dump_json(), media_type="application/json")


def crm_router(crm: CrmSystem) -> APIRouter:
    """CRM routes: profiles, history and the lookups that resolve who a customer is."""
    router = APIRouter(prefix="/v1", tags=["crm"])

    @router.get("/customers", response_model=list[CustomerRef])
    async def by_contact(
        phone: str | None = None, email: str | None = None, social: str | None = None
    ) -> Response:
        given = [(k, v) for k, v in (("phone", phone), ("email", email), ("social", social)) if v]
        if len(given) != 1:
            raise InvalidInput("contact", "give exactly one of phone, email or social")
        kind, raw = given[0]
        refs = await crm.find_by_contact(cast(ContactKind, kind), _CONTACT[kind](raw))
        return _json(_REFS, refs)

    @router.get("/customers:by-name", response_model=list[CustomerRef])
    async def by_name(name: str, postal_code: str) -> Response:
        key, postal = ids.person_name(name), ids.postal_code(postal_code)
        return _json(_REFS, await crm.find_by_name_postal(key, postal))

    @router.get("/customers:refs", response_model=list[CustomerRef])
    async def refs(listed: Annotated[str, Query(alias="ids")] = "") -> Response:
        parts = [part for part in listed.split(",") if part.strip()]
        if len(parts) > MAX_REFS:
            raise InvalidInput("ids", f"at most {MAX_REFS} customer ids per request")
        wanted = [ids.customer_id(part) for part in parts]
        return _json(_REFS, await crm.get_refs(wanted) if wanted else [])

    @router.get("/customers/{customer_id}", response_model=CustomerProfile)
    async def profile(customer_id: str) -> Response:
        wanted = ids.customer_id(customer_id)
        return _model(await crm.get_profile(wanted), f"customer {wanted}")

    @router.get("/customers/{customer_id}/history", response_model=CustomerHistory)
    async def history(
        customer_id: str, limit: Annotated[int, Query(ge=0, le=500)] = 50
    ) -> Response:
        return _model(await crm.get_history(ids.customer_id(customer_id), limit), "history")

    return router


def billing_router(billing: BillingSystem) -> APIRouter:
    """Billing routes: account lookup and a customer's full billing picture."""
    router = APIRouter(prefix="/v1", tags=["billing"])

    @router.get("/accounts/{account_number}", response_model=AccountRef)
    async def account(account_number: str) -> Response:
        wanted = ids.account_number(account_number)
        return _model(await billing.find_account(wanted), f"account {wanted}")

    @router.get("/customers/{customer_id}/accounts", response_model=list[BillingAccount])
    async def accounts(customer_id: str) -> Response:
        return _json(_ACCOUNTS, await billing.get_customer_billing(ids.customer_id(customer_id)))

    return router


def orders_router(orders: OrdersSystem) -> APIRouter:
    """Order routes: order lookup, card-purchase matching and a customer's orders."""
    router = APIRouter(prefix="/v1", tags=["orders"])

    @router.get("/orders/{order_number}", response_model=OrderRef)
    async def order(order_number: str) -> Response:
        wanted = ids.order_number(order_number)
        return _model(await orders.find_order(wanted), f"order {wanted}")

    @router.get("/purchases", response_model=list[OrderRef])
    async def purchases(
        card_last4: str,
        date: str,
        amount: str,
        tolerance_days: Annotated[int, Query(ge=0, le=30)] = 1,
    ) -> Response:
        found = await orders.find_card_purchases(
            ids.card_last4(card_last4), ids.purchase_date(date), ids.amount(amount), tolerance_days
        )
        return _json(_ORDER_REFS, found)

    @router.get("/customers/{customer_id}/orders", response_model=CustomerOrders)
    async def customer_orders(
        customer_id: str, limit: Annotated[int, Query(ge=0, le=200)] = 20
    ) -> Response:
        found = await orders.get_customer_orders(ids.customer_id(customer_id), limit)
        return _model(found, "orders")

    return router


def actions_router(actions: ActionSystem, system: ActionTarget) -> APIRouter:
    """Write actions on this system's records: POST /v1/actions, :owner and :preview; billing
    also registers cards from the secure payment form at POST /v1/payment-methods."""
    router = APIRouter(prefix="/v1", tags=[system])

    def mine(body: ActionBody | RequestBody) -> None:
        if system_of(body.request) != system:
            raise InvalidInput("kind", f"{body.request.kind} is not an action of {system}")

    @router.post("/actions", response_model=ActionOutcome)
    async def perform(body: ActionBody) -> Response:
        mine(body)
        outcome = await actions.perform(body.action_id, body.request, body.approved_by)
        return _model(outcome, "action")

    @router.post("/actions:owner", response_model=OwnerAnswer)
    async def owner(body: RequestBody) -> Response:
        mine(body)
        return _model(OwnerAnswer(customer_id=await actions.owner(body.request)), "owner")

    @router.post("/actions:preview", response_model=ActionPreview)
    async def preview(body: RequestBody) -> Response:
        mine(body)
        return _model(await actions.preview(body.request), "preview")

    if system == "billing":

        @router.post("/payment-methods", response_model=PaymentMethod)
        async def register_payment_method(entry: PaymentMethodEntry) -> Response:
            return _model(await actions.register_payment_method(entry), "payment method")

    return router
