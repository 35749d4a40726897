"""Write actions on the siloed systems: typed requests, one outcome shape, one seam per backend.

The copilot proposes a request, an agent approves it, and an `ActionSystem` performs it once:
performing the same `action_id` again returns the first outcome and writes nothing.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from tools import cards
from tools import identifiers as ids
from tools.errors import InvalidInput

_FROZEN = ConfigDict(extra="forbid", frozen=True)
# A request may carry what a customer typed; an error must not repeat it into a log.
_CAREFUL = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)
_CODE_RE = re.compile(r"^[A-Z0-9][A-Z0-9-]*$")
_ACTION_ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
MAX_APPROVER = 128
R = TypeVar("R")
T = TypeVar("T")

AccountNumber = Annotated[
    str, Field(min_length=1, max_length=32, description="billing account number, e.g. BA12345678")
]
PaymentMethodRef = Annotated[
    str,
    Field(
        description="the token the secure payment form returned, e.g. pm_AbCd...; "
        "never a card number",
        json_schema_extra={"pattern": cards.REF_PATTERN},
    ),
    AfterValidator(cards.payment_token),
]


class UpdateAutopay(BaseModel):
    """Set up autopay on the new card the customer entered in the secure payment form, by the
    token the form returned, replacing the card on file. A past-due invoice stays as it is:
    take_payment settles it."""

    model_config = _CAREFUL
    kind: Literal["update_autopay"] = Field(description="always update_autopay")
    account_number: AccountNumber
    payment_method: PaymentMethodRef


class TakePayment(BaseModel):
    """Charge the autopay card on file for what is overdue and mark the invoices paid."""

    model_config = _FROZEN
    kind: Literal["take_payment"] = Field(description="always take_payment")
    account_number: AccountNumber
    amount: float | None = Field(
        None, gt=0, description="amount to charge in dollars; leave out to pay all that is past due"
    )


class WaiveLateFee(BaseModel):
    """Credit back the most recent late fee on the account that was not credited yet."""

    model_config = _FROZEN
    kind: Literal["waive_late_fee"] = Field(description="always waive_late_fee")
    account_number: AccountNumber
    invoice_id: str | None = Field(
        None,
        max_length=20,
        description="only a late fee charged on this invoice; leave out for any",
    )


class ChangePlan(BaseModel):
    """Move one line to another monthly plan (not an add-on)."""

    model_config = _FROZEN
    kind: Literal["change_plan"] = Field(description="always change_plan")
    line_id: str = Field(
        min_length=1, max_length=16, description="the line to move, e.g. L12345670"
    )
    plan_code: str = Field(min_length=1, max_length=32, description="the new plan, e.g. UNL")


class StartReturn(BaseModel):
    """Open a return (refund) or an exchange for one item of an order."""

    model_config = _FROZEN
    kind: Literal["start_return", "start_exchange"] = Field(
        description="start_return refunds the item; start_exchange swaps it, no refund"
    )
    order_number: str = Field(
        min_length=1, max_length=32, description="order or receipt number, e.g. W123456789"
    )
    item_id: int = Field(ge=0, description="the order item's id, as listed on the order")
    reason: str = Field(
        min_length=1, max_length=300, description="the customer's reason, in a few words"
    )


ActionRequest = Annotated[
    UpdateAutopay | TakePayment | WaiveLateFee | ChangePlan | StartReturn,
    Field(discriminator="kind"),
]
BILLING_KINDS: tuple[str, ...] = ("update_autopay", "take_payment", "waive_late_fee", "change_plan")
ORDERS_KINDS: tuple[str, ...] = ("start_return", "start_exchange")
ACTION_KINDS: tuple[str, ...] = BILLING_KINDS + ORDERS_KINDS
ActionTarget = Literal["billing", "orders"]


class ActionOutcome(BaseModel):
    """What an approved action wrote, in one line for the agent and field by field."""

    action_id: str
    kind: str
    customer_id: str = Field(description="the CRM customer whose record changed")
    reference: str = Field(description="id of the row written: payment, adjustment, return ...")
    message: str = Field(description="one human line, e.g. 'Credited the $15.00 late fee ...'")
    changes: dict[str, str] = Field(description="what changed, e.g. {'balance': '82.84 → 67.84'}")


class ActionPreview(BaseModel):
    """What performing a request would write, worked out from the records now; nothing written."""

    kind: str
    message: str = Field(
        description="one human line, e.g. 'Will charge $103.08 to Mastercard ****5678 ...'"
    )
    changes: dict[str, str] = Field(
        description="what would change, as ActionOutcome.changes, e.g. {'balance': '82.84 → 0.00'}"
    )


class CardDetails(BaseModel):
    """A card as the customer enters it in the secure payment form: never its number or CVV."""

    model_config = _CAREFUL
    brand: Annotated[str, AfterValidator(cards.brand_name)] = Field(
        min_length=1, max_length=32, description="Visa, Mastercard, Amex or Discover"
    )
    last4: str = Field(
        min_length=4, max_length=4, pattern=r"^[0-9]{4}$", description="the last four digits only"
    )
    exp_month: int = Field(ge=1, le=12)
    exp_year: int = Field(ge=2000, le=2099, description="four digits, e.g. 2029")

    @model_validator(mode="before")
    @classmethod
    def _no_card_data(cls, data: object) -> object:
        # InvalidInput rather than a ValidationError: it names the field and never the value,
        # and card data is refused before any validator sees it.
        if not isinstance(data, dict):
            return data
        for key in data:
            if str(key).lower() in cards.CARD_DATA_KEYS:
                raise InvalidInput(
                    str(key),
                    "card numbers and security codes stay in the secure payment form; "
                    "send only brand, last4, exp_month and exp_year",
                )
        last4 = data.get("last4")
        if isinstance(last4, str | int) and sum(ch.isdigit() for ch in str(last4)) > 4:
            raise InvalidInput(
                "last4", "billing never stores a card number: send only its last four digits"
            )
        return data


class PaymentMethodEntry(CardDetails):
    """A card as the secure payment form hands it to billing, for one account."""

    account_number: AccountNumber


class PaymentMethod(BaseModel):
    """A card registered through the secure payment form, known by its token from then on."""

    model_config = _FROZEN
    token: str = Field(description="opaque reference: pm_ and 24 letters")
    account_number: str
    customer_id: str = Field(description="the CRM customer owning the account")
    brand: str
    last4: str
    exp_month: int
    exp_year: int

    @property
    def expiry(self) -> str:
        """MM/YY."""
        return cards.expiry_text(self.exp_month, self.exp_year)


class ActionSystem(Protocol):
    """Performs approved write actions, each at most once per action_id."""

    async def owner(self, request: ActionRequest) -> str | None:
        """The CRM customer id owning the request's target; None when there is no such target."""
        ...

    async def preview(self, request: ActionRequest) -> ActionPreview:
        """What perform would write now, refusing as perform would; writes nothing."""
        ...

    async def perform(
        self, action_id: str, request: ActionRequest, approved_by: str
    ) -> ActionOutcome: ...

    async def register_payment_method(self, entry: PaymentMethodEntry) -> PaymentMethod:
        """Store a card from the secure payment form on its billing account; its token back."""
        ...


# --- Wire shapes of the services' action routes ---------------------------------------------


class ActionBody(BaseModel):
    """POST /v1/actions."""

    model_config = _CAREFUL
    action_id: str = Field(min_length=1, max_length=64)
    approved_by: str = Field(min_length=1, max_length=MAX_APPROVER)
    request: ActionRequest


class RequestBody(BaseModel):
    """POST /v1/actions:owner and /v1/actions:preview."""

    model_config = _CAREFUL
    request: ActionRequest


class OwnerAnswer(BaseModel):
    customer_id: str | None


# --- Validation shared by every backend -----------------------------------------------------


def system_of(request: ActionRequest) -> ActionTarget:
    """The system that owns the request's target."""
    return "orders" if request.kind in ORDERS_KINDS else "billing"


def target_of(request: ActionRequest) -> str:
    """The target in words, e.g. 'account BA90000001', for messages."""
    if isinstance(request, ChangePlan):
        return f"line {request.line_id}"
    if isinstance(request, StartReturn):
        return f"order {request.order_number}"
    return f"account {request.account_number}"


def row_key(action_id: str) -> str:
    """Twelve hex digits derived from the action id: the ids of rows it writes end with it."""
    return hashlib.sha256(action_id.encode()).hexdigest()[:12].upper()


def check_action_id(raw: str) -> str:
    if not _ACTION_ID_RE.match(raw):
        raise InvalidInput("action_id", "expected 1-64 letters, digits and . _ : -")
    return raw


def check_approver(raw: str) -> str:
    value = raw.strip()
    if not value or len(value) > MAX_APPROVER or any(ord(ch) < 32 for ch in value):
        raise InvalidInput("approved_by", f"expected the approving agent, 1-{MAX_APPROVER} chars")
    return value


def checked(request: ActionRequest) -> ActionRequest:
    """The request with its identifiers normalized; InvalidInput naming the field otherwise."""
    if isinstance(request, ChangePlan):
        return request.model_copy(
            update={
                "line_id": _code("line_id", request.line_id, 16),
                "plan_code": _code("plan_code", request.plan_code, 32),
            }
        )
    if isinstance(request, StartReturn):
        reason = request.reason.strip()
        if not reason or any(ord(ch) < 32 for ch in reason):
            raise InvalidInput("reason", "must be a line of text")
        number = _as("order_number", ids.order_number, request.order_number)
        return request.model_copy(update={"order_number": number, "reason": reason})
    update: dict[str, object] = {
        "account_number": _as("account_number", ids.account_number, request.account_number)
    }
    if isinstance(request, TakePayment) and request.amount is not None:
        update["amount"] = _as("amount", ids.amount, request.amount)
    if isinstance(request, WaiveLateFee) and request.invoice_id is not None:
        update["invoice_id"] = _code("invoice_id", request.invoice_id, 20)
    return request.model_copy(update=update)


def checked_entry(entry: PaymentMethodEntry) -> PaymentMethodEntry:
    """The secure form's entry with its account number normalized; InvalidInput otherwise."""
    number = _as("account_number", ids.account_number, entry.account_number)
    return entry.model_copy(update={"account_number": number})


def _as(field: str, check: Callable[[R], T], raw: R) -> T:
    try:
        return check(raw)
    except InvalidInput as exc:
        raise InvalidInput(field, exc.message.removeprefix(f"{exc.field}: ")) from None


def _code(field: str, raw: str, limit: int) -> str:
    value = raw.strip().upper()
    if not value or len(value) > limit or not _CODE_RE.match(value):
        raise InvalidInput(field, f"expected up to {limit} letters, digits and dashes")
    return value


class RoutedActions:
    """Billing actions to one ActionSystem, orders actions to another (e.g. one of them down)."""

    def __init__(self, *, billing: ActionSystem, orders: ActionSystem) -> None:
        self.systems: dict[ActionTarget, ActionSystem] = {"billing": billing, "orders": orders}

    async def owner(self, request: ActionRequest) -> str | None:
        return await self.systems[system_of(request)].owner(request)

    async def preview(self, request: ActionRequest) -> ActionPreview:
        return await self.systems[system_of(request)].preview(request)

    async def perform(
        self, action_id: str, request: ActionRequest, approved_by: str
    ) -> ActionOutcome:
        return await self.systems[system_of(request)].perform(action_id, request, approved_by)

    async def register_payment_method(self, entry: PaymentMethodEntry) -> PaymentMethod:
        return await self.systems["billing"].register_payment_method(entry)
