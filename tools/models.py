"""Typed records the siloed systems return: the same shapes from every backend."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Channel = Literal["ivr", "chatbot", "chat", "voice", "email", "sms", "whatsapp", "store", "web"]
CONTACT_KINDS = ("phone", "email", "social")
ContactKind = Literal["phone", "email", "social"]


class Record(BaseModel):
    """Immutable record shared by every system's models."""

    model_config = ConfigDict(frozen=True, extra="forbid")


# --- CRM -------------------------------------------------------------------------------------


class ContactPoint(Record):
    kind: ContactKind
    label: str = Field(description="mobile, home, work, family, twitter, instagram ...")
    value: str = Field(description="as the customer gave it")
    normalized: str = Field(description="E.164 phone, lower-case email, lower-case @handle")
    is_primary: bool
    verified: bool


class Address(Record):
    kind: Literal["billing", "service", "shipping"]
    line1: str
    city: str
    region: str
    postal_code: str
    country: str


class Consent(Record):
    channel: Literal["email", "sms", "phone", "whatsapp"]
    purpose: Literal["marketing", "service"]
    granted: bool
    updated_at: datetime


class CustomerRef(Record):
    """Just enough of a customer to name a resolution candidate."""

    customer_id: str
    full_name: str


class CustomerProfile(Record):
    customer_id: str
    first_name: str
    last_name: str
    tier: Literal["standard", "silver", "gold", "platinum"]
    segment: Literal["consumer", "family", "small_business"]
    customer_since: date
    status: Literal["active", "inactive"]
    preferred_language: str
    preferred_channel: Channel
    contacts: list[ContactPoint]
    addresses: list[Address]
    consents: list[Consent]

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}"


class Interaction(Record):
    interaction_id: str
    channel: Channel
    direction: Literal["inbound", "outbound"]
    started_at: datetime
    duration_s: int
    topic: str
    outcome: Literal[
        "resolved",
        "transferred",
        "abandoned",
        "escalated",
        "pending",
        "self_service_failed",
        "sent",
    ]
    agent: str | None
    notes: str


class Verification(Record):
    verification_id: str
    channel: Channel
    method: Literal["otp_sms", "kba", "pin", "id_document", "voice_biometrics", "email_link"]
    result: Literal["passed", "failed"]
    at: datetime


class CustomerHistory(Record):
    interactions: list[Interaction]
    verifications: list[Verification]


# --- Billing ---------------------------------------------------------------------------------


class Plan(Record):
    plan_code: str
    name: str
    kind: Literal["plan", "addon"]
    monthly_fee: float
    data_gb: float | None = Field(description="None means unlimited")
    voice_minutes: int | None = Field(description="None means unlimited")
    description: str


class UsageMonth(Record):
    month: str = Field(description="YYYY-MM")
    data_gb: float
    voice_minutes: int


class Line(Record):
    line_id: str
    msisdn: str
    status: Literal["active", "suspended"]
    activated_at: date
    plan: Plan
    addons: list[Plan]
    usage: list[UsageMonth] = Field(description="newest month first")


class Invoice(Record):
    invoice_id: str
    period_start: date
    period_end: date
    issued_at: date
    due_date: date
    amount: float
    amount_paid: float
    status: Literal["paid", "open", "past_due"]


class Payment(Record):
    payment_id: str
    invoice_id: str | None
    at: datetime
    amount: float
    method: Literal["autopay_card", "autopay_bank", "card", "bank", "cash"]
    status: Literal["succeeded", "failed"]
    failure_reason: str | None


class AutopayMandate(Record):
    mandate_id: str
    method: Literal["card", "bank"]
    card_brand: str | None
    card_last4: str | None
    card_expiry: str | None = Field(description="MM/YY")
    status: Literal["active", "failed", "cancelled"]
    set_up_at: date
    last_attempt_at: datetime | None
    last_failure_reason: str | None


class Adjustment(Record):
    adjustment_id: str
    kind: Literal["late_fee", "credit"]
    amount: float
    reason: str
    at: datetime
    invoice_id: str | None


class BillingAccount(Record):
    account_number: str
    customer_id: str
    status: Literal["active", "suspended", "closed"]
    opened_at: date
    balance: float = Field(description="amount currently owed")
    currency: str
    lines: list[Line]
    invoices: list[Invoice] = Field(description="newest first")
    payments: list[Payment] = Field(description="newest first")
    autopay: AutopayMandate | None
    adjustments: list[Adjustment] = Field(description="newest first")


class AccountRef(Record):
    account_number: str
    customer_id: str


# --- Orders ----------------------------------------------------------------------------------


class ReturnPolicy(Record):
    category: str
    return_days: int
    exchange_days: int
    receipt_required: bool
    no_receipt_policy: str


class OrderItem(Record):
    item_id: int
    sku: str
    name: str
    category: str
    quantity: int
    unit_price: float


class Shipment(Record):
    shipment_id: str
    carrier: str
    tracking_number: str
    status: Literal["label_created", "in_transit", "delivered", "exception"]
    shipped_at: datetime | None
    delivered_at: datetime | None
    eta: date | None


class ReturnRecord(Record):
    return_id: str
    item_id: int
    kind: Literal["return", "exchange"]
    status: Literal["requested", "received", "refunded", "rejected"]
    requested_at: datetime
    reason: str
    refund_amount: float


class Order(Record):
    order_number: str
    channel: Literal["online", "store"]
    customer_id: str | None
    store: str | None
    placed_at: datetime
    status: Literal["placed", "shipped", "delivered", "completed", "cancelled", "returned"]
    total: float
    card_brand: str
    card_last4: str
    receipt_issued: bool
    items: list[OrderItem]
    shipments: list[Shipment]
    returns: list[ReturnRecord]


class CustomerOrders(Record):
    orders: list[Order] = Field(description="newest first")
    policies: list[ReturnPolicy]


class OrderRef(Record):
    order_number: str
    customer_id: str | None
    placed_at: datetime
    total: float
    card_last4: str
    channel: Literal["online", "store"]
    store: str | None
