"""Offers: a YAML catalogue of upsells and cross-sells, eligibility over the customer's own data,
a gate that keeps them out of unhappy or unfinished conversations, and a ledger of outcomes.

The LLM may phrase an offer but never invents one: only catalogue entries whose rules all hold on
the unified view reach the panel, each with a why-line citing the data it rests on.
"""

from __future__ import annotations

from copilot.offers.catalogue import (
    DEFAULT_PATH,
    Catalogue,
    DataOverage,
    DeviceAge,
    Offer,
    RecentPurchase,
    Rules,
    load_default,
)
from copilot.offers.eligibility import Assessment, OfferMatch, OfferSkip, assess, eligible
from copilot.offers.gate import OfferDecision, OfferEvent, OfferHistory, OfferStatus, choose
from copilot.offers.ledger import OfferLedger, OfferStats

__all__ = [
    "DEFAULT_PATH",
    "Assessment",
    "Catalogue",
    "DataOverage",
    "DeviceAge",
    "Offer",
    "OfferDecision",
    "OfferEvent",
    "OfferHistory",
    "OfferLedger",
    "OfferMatch",
    "OfferSkip",
    "OfferStats",
    "OfferStatus",
    "RecentPurchase",
    "Rules",
    "assess",
    "choose",
    "eligible",
    "load_default",
]
