"""Customers: resolve identity across silos, and the unified 360 view."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from copilot.touchpoints import Journey, journey
from server.auth import CustomerReader, Writer
from server.deps import DepsDep
from tools import identifiers
from tools.identity import IdentityQuery, Resolution, resolve
from tools.view import Customer360, customer_360

router = APIRouter(prefix="/v1/customers", tags=["customers"])
Text = Annotated[str | None, Query(max_length=254)]


@router.get("/resolve")
async def resolve_customer(
    deps: DepsDep,
    who: Writer,
    phone: Text = None,
    email: Text = None,
    account: Text = None,
    order: Text = None,
    card_last4: Text = None,
    purchase_date: Annotated[str | None, Query(alias="date", max_length=254)] = None,
    amount: Text = None,
    name: Text = None,
    postal_code: Text = None,
    social: Text = None,
) -> Resolution:
    """Candidates with evidence for any mix of identifiers; never a silent pick."""
    query = IdentityQuery(
        phone=phone,
        email=email,
        account=account,
        order=order,
        card_last4=card_last4,
        purchase_date=purchase_date,
        amount=amount,
        name=name,
        postal_code=postal_code,
        social=social,
    )
    return await resolve(deps.systems, query)


@router.get("/{customer_id}/360")
async def customer_view(
    deps: DepsDep,
    customer_id: Annotated[str, Path(max_length=64)],
    who: Writer,
) -> Customer360:
    """Profile, billing, orders and timeline in one document; each section has its own status."""
    cid = identifiers.customer_id(customer_id)
    return await customer_360(deps.systems, cid, today=deps.today())


@router.get("/{customer_id}/journey")
async def customer_journey(
    deps: DepsDep,
    customer_id: Annotated[str, Path(max_length=64)],
    who: CustomerReader,
) -> Journey:
    """Every touchpoint across channels, newest first: CRM interactions, verifications,
    purchases, and the copilot's own sessions with this customer."""
    cid = identifiers.customer_id(customer_id)
    view = await customer_360(deps.systems, cid, today=deps.today())
    points = deps.engine().deps.touchpoints
    sessions = points.for_customer(cid, who.tenant) if points is not None else []
    return journey(cid, view.timeline, sessions)
