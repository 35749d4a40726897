"""Table definitions of the three silos. Each has its own database and its own keys."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

SCHEMA_VERSION = "2"


def _meta_table(metadata: MetaData) -> Table:
    return Table(
        "meta",
        metadata,
        Column("key", String(64), primary_key=True),
        Column("value", Text, nullable=False),
    )


# --- CRM -------------------------------------------------------------------------------------
crm_metadata = MetaData()
crm_meta = _meta_table(crm_metadata)
customers = Table(
    "customers",
    crm_metadata,
    Column("customer_id", String(16), primary_key=True),
    Column("first_name", String(64), nullable=False),
    Column("last_name", String(64), nullable=False),
    Column("full_name_key", String(130), nullable=False, doc="lower-case 'first last'"),
    Column("tier", String(16), nullable=False),
    Column("segment", String(16), nullable=False),
    Column("customer_since", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("preferred_language", String(8), nullable=False),
    Column("preferred_channel", String(16), nullable=False),
)
contact_points = Table(
    "contact_points",
    crm_metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("label", String(16), nullable=False),
    Column("value", String(128), nullable=False),
    Column("normalized", String(128), nullable=False),
    Column("is_primary", Boolean, nullable=False),
    Column("verified", Boolean, nullable=False),
    Index("ix_contact_lookup", "kind", "normalized"),
    Index("ix_contact_customer", "customer_id"),
)
addresses = Table(
    "addresses",
    crm_metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("line1", String(128), nullable=False),
    Column("city", String(64), nullable=False),
    Column("region", String(8), nullable=False),
    Column("postal_code", String(16), nullable=False),
    Column("postal_key", String(16), nullable=False, doc="upper-case, no spaces"),
    Column("country", String(2), nullable=False),
    Index("ix_address_postal", "postal_key"),
    Index("ix_address_customer", "customer_id"),
)
consents = Table(
    "consents",
    crm_metadata,
    Column("id", Integer, primary_key=True),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("granted", Boolean, nullable=False),
    Column("updated_at", DateTime, nullable=False),
    Index("ix_consent_customer", "customer_id"),
)
interactions = Table(
    "interactions",
    crm_metadata,
    Column("interaction_id", String(24), primary_key=True),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("direction", String(8), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("duration_s", Integer, nullable=False),
    Column("topic", String(64), nullable=False),
    Column("outcome", String(24), nullable=False),
    Column("agent", String(64)),
    Column("notes", Text, nullable=False),
    Index("ix_interaction_customer", "customer_id", "started_at"),
)
verifications = Table(
    "verifications",
    crm_metadata,
    Column("verification_id", String(24), primary_key=True),
    Column("customer_id", ForeignKey("customers.customer_id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("method", String(24), nullable=False),
    Column("result", String(8), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_verification_customer", "customer_id", "at"),
)

# --- Billing ---------------------------------------------------------------------------------
billing_metadata = MetaData()
billing_meta = _meta_table(billing_metadata)
plans = Table(
    "plans",
    billing_metadata,
    Column("plan_code", String(32), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("monthly_fee", Float, nullable=False),
    Column("data_gb", Float),
    Column("voice_minutes", Integer),
    Column("description", Text, nullable=False),
)
accounts = Table(
    "accounts",
    billing_metadata,
    Column("account_number", String(16), primary_key=True),
    Column("crm_customer_id", String(16), nullable=False, doc="cross-reference into the CRM"),
    Column("status", String(16), nullable=False),
    Column("opened_at", Date, nullable=False),
    Column("balance", Float, nullable=False),
    Column("currency", String(3), nullable=False),
    Index("ix_account_customer", "crm_customer_id"),
)
lines = Table(
    "lines",
    billing_metadata,
    Column("line_id", String(16), primary_key=True),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("msisdn", String(16), nullable=False),
    Column("plan_code", ForeignKey("plans.plan_code"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("activated_at", Date, nullable=False),
    Index("ix_line_account", "account_number"),
    Index("ix_line_msisdn", "msisdn"),
)
line_addons = Table(
    "line_addons",
    billing_metadata,
    Column("id", Integer, primary_key=True),
    Column("line_id", ForeignKey("lines.line_id"), nullable=False),
    Column("addon_code", ForeignKey("plans.plan_code"), nullable=False),
    Index("ix_addon_line", "line_id"),
)
invoices = Table(
    "invoices",
    billing_metadata,
    Column("invoice_id", String(20), primary_key=True),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("issued_at", Date, nullable=False),
    Column("due_date", Date, nullable=False),
    Column("amount", Float, nullable=False),
    Column("amount_paid", Float, nullable=False),
    Column("status", String(16), nullable=False),
    Index("ix_invoice_account", "account_number", "issued_at"),
)
payments = Table(
    "payments",
    billing_metadata,
    Column("payment_id", String(20), primary_key=True),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("invoice_id", String(20)),
    Column("at", DateTime, nullable=False),
    Column("amount", Float, nullable=False),
    Column("method", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("failure_reason", String(32)),
    Index("ix_payment_account", "account_number", "at"),
)
autopay_mandates = Table(
    "autopay_mandates",
    billing_metadata,
    Column("mandate_id", String(20), primary_key=True),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("method", String(8), nullable=False),
    Column("card_brand", String(16)),
    Column("card_last4", String(4)),
    Column("card_expiry", String(5)),
    Column("status", String(16), nullable=False),
    Column("set_up_at", Date, nullable=False),
    Column("last_attempt_at", DateTime),
    Column("last_failure_reason", String(32)),
    Index("ix_mandate_account", "account_number"),
)
payment_methods = Table(
    "payment_methods",
    billing_metadata,
    Column("token", String(68), primary_key=True, doc="opaque reference handed out: pm_..."),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("method", String(8), nullable=False),
    Column("card_brand", String(16), nullable=False),
    Column("card_last4", String(4), nullable=False, doc="never more: no card number is stored"),
    Column("exp_month", Integer, nullable=False),
    Column("exp_year", Integer, nullable=False, doc="four digits"),
    Column("created_at", DateTime, nullable=False),
    Index("ix_payment_method_account", "account_number"),
)
adjustments = Table(
    "adjustments",
    billing_metadata,
    Column("adjustment_id", String(20), primary_key=True),
    Column("account_number", ForeignKey("accounts.account_number"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("amount", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", DateTime, nullable=False),
    Column("invoice_id", String(20)),
    Index("ix_adjustment_account", "account_number"),
)
usage = Table(
    "usage",
    billing_metadata,
    Column("line_id", ForeignKey("lines.line_id"), primary_key=True),
    Column("month", String(7), primary_key=True),
    Column("data_gb", Float, nullable=False),
    Column("voice_minutes", Integer, nullable=False),
)

# --- Orders ----------------------------------------------------------------------------------
orders_metadata = MetaData()
orders_meta = _meta_table(orders_metadata)
stores = Table(
    "stores",
    orders_metadata,
    Column("store_id", String(8), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("city", String(64), nullable=False),
)
return_policies = Table(
    "return_policies",
    orders_metadata,
    Column("category", String(16), primary_key=True),
    Column("return_days", Integer, nullable=False),
    Column("exchange_days", Integer, nullable=False),
    Column("receipt_required", Boolean, nullable=False),
    Column("no_receipt_policy", Text, nullable=False),
)
products = Table(
    "products",
    orders_metadata,
    Column("sku", String(16), primary_key=True),
    Column("name", String(96), nullable=False),
    Column("category", ForeignKey("return_policies.category"), nullable=False),
    Column("price", Float, nullable=False),
)
orders = Table(
    "orders",
    orders_metadata,
    Column("order_number", String(16), primary_key=True),
    Column("channel", String(8), nullable=False),
    Column("customer_ref", String(16), doc="CRM id when the purchase was linked to a customer"),
    Column("store_id", ForeignKey("stores.store_id")),
    Column("placed_at", DateTime, nullable=False),
    Column("purchase_date", Date, nullable=False),
    Column("status", String(16), nullable=False),
    Column("total", Float, nullable=False),
    Column("card_brand", String(16), nullable=False),
    Column("card_last4", String(4), nullable=False),
    Column("receipt_issued", Boolean, nullable=False),
    Index("ix_order_customer", "customer_ref", "placed_at"),
    Index("ix_order_card", "card_last4", "purchase_date"),
)
order_items = Table(
    "order_items",
    orders_metadata,
    Column("item_id", Integer, primary_key=True),
    Column("order_number", ForeignKey("orders.order_number"), nullable=False),
    Column("sku", ForeignKey("products.sku"), nullable=False),
    Column("name", String(96), nullable=False),
    Column("category", String(16), nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("unit_price", Float, nullable=False),
    Index("ix_item_order", "order_number"),
)
shipments = Table(
    "shipments",
    orders_metadata,
    Column("shipment_id", String(20), primary_key=True),
    Column("order_number", ForeignKey("orders.order_number"), nullable=False),
    Column("carrier", String(16), nullable=False),
    Column("tracking_number", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("shipped_at", DateTime),
    Column("delivered_at", DateTime),
    Column("eta", Date),
    Index("ix_shipment_order", "order_number"),
)
returns = Table(
    "returns",
    orders_metadata,
    Column("return_id", String(20), primary_key=True),
    Column("order_number", ForeignKey("orders.order_number"), nullable=False),
    Column("item_id", ForeignKey("order_items.item_id"), nullable=False),
    Column("kind", String(8), nullable=False),
    Column("status", String(16), nullable=False),
    Column("requested_at", DateTime, nullable=False),
    Column("reason", Text, nullable=False),
    Column("refund_amount", Float, nullable=False),
    Index("ix_return_order", "order_number"),
)

METADATA = {"crm": crm_metadata, "billing": billing_metadata, "orders": orders_metadata}
