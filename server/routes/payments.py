"""The secure payment form's callback: a card's brand, last four and expiry, never its number."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from copilot.events import ID_PATTERN
from copilot.payments import SecureForm, from_secure_form
from server.auth import Sender
from server.deps import DepsDep
from server.routes.live import CHANGES, require_open
from server.routes.sessions import SessionId

router = APIRouter(prefix="/v1/sessions", tags=["live"])


class SecureFormIn(SecureForm):
    """What the secure form hands back; form_id makes a retry change nothing."""

    form_id: str = Field(pattern=ID_PATTERN, description="the form submission's own id")


class PaymentMethodOut(BaseModel):
    token: str = Field(description="the reference an autopay update uses")
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    version: int | None = Field(None, description="the panel version this produced")


@router.post("/{session_id}/payment-methods", status_code=201, responses=CHANGES)
async def add_payment_method(
    session_id: SessionId, body: SecureFormIn, deps: DepsDep, who: Sender
) -> PaymentMethodOut:
    """Billing registers the card for the session's customer; the session gets its token."""
    await require_open(deps, session_id, who)
    form = SecureForm.model_validate(body.model_dump(exclude={"form_id"}))
    method, update = await from_secure_form(
        deps.engine(), session_id, form, f"payment-method-{body.form_id}"
    )
    return PaymentMethodOut(
        token=method.token,
        brand=method.brand,
        last4=method.last4,
        exp_month=method.exp_month,
        exp_year=method.exp_year,
        version=update.version if update is not None else None,
    )
