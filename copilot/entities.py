"""Entities in an utterance: identifiers for identity, and the facts the summary carries."""

from __future__ import annotations

import re
from datetime import date, timedelta

import phonenumbers
from pydantic import BaseModel, Field

from tools import identifiers as ids
from tools.demo.catalogue import PLANS, PRODUCTS
from tools.errors import InvalidInput

_EMAIL = re.compile(r"\b[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
_ACCOUNT = re.compile(r"\bBA[\s-]?\d{4}[\s-]?\d{4}\b", re.IGNORECASE)
_ORDER = re.compile(r"(?<![\w])#?\s?([WS])[\s-]?(\d{3})[\s-]?(\d{3})[\s-]?(\d{3})\b", re.IGNORECASE)
_AMOUNT = re.compile(
    r"(?:\$\s?(\d{1,3}(?:,\d{3})*(?:\.\d{2})?|\d+(?:\.\d{2})?))"
    r"|\b(\d+(?:\.\d{2})?)\s?(?:dollars|usd|bucks)\b",
    re.IGNORECASE,
)
_LAST4 = re.compile(
    r"(?i)\b(?:ending(?: in)?|ends(?: in| with)?|last (?:4|four)(?: digits)?(?: are| is)?|"
    r"card\s*(?:x+|\*+|\.\.\.))\s*[:#]?\s*(\d{4})\b"
)
_ISO_DATE = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")
_MONTH_DAY = re.compile(
    r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(\d{1,2})(?:st|nd|rd|th)?\b",
    re.IGNORECASE,
)
_RELATIVE = re.compile(
    r"(?i)\b(today|yesterday|(a|one|two|three|four|\d+) (day|week)s? (?:ago|back)|last week)\b"
)
# Said loosely: the customer remembers roughly when, so a search looks around it.
_ROUGHLY = re.compile(
    r"(?i)\b(?:a (couple|few) (?:of )?weeks?|(couple|few) weeks|(last|a) month|"
    r"(a|one|two|three|four|\d+) months?) (?:ago|back)\b|\blast month\b"
)
_NUMBERS = {"a": 1, "one": 1, "two": 2, "three": 3, "four": 4}
_MONTHS = ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"]
_PLAN_NAMES = {p[1].lower(): p[0] for p in PLANS}
_PRODUCT_NAMES = {p[1].lower(): p[0] for p in PRODUCTS}
_PRODUCT_WORDS = {
    "jacket": "AP-JACK",
    "hoodie": "AP-HOOD",
    "earbuds": "AC-BUDS",
    "charger": "AC-CHRG",
    "membership card": "MB-CARD",
    "rewards card": "MB-CARD",
}


class Entities(BaseModel):
    phones: list[str] = Field(default_factory=list, description="E.164")
    emails: list[str] = Field(default_factory=list)
    accounts: list[str] = Field(default_factory=list)
    orders: list[str] = Field(default_factory=list)
    amounts: list[float] = Field(default_factory=list)
    dates: list[date] = Field(default_factory=list)
    about_dates: list[date] = Field(
        default_factory=list, description="dates said loosely (a couple of weeks back)"
    )
    card_last4: list[str] = Field(default_factory=list)
    plans: list[str] = Field(default_factory=list, description="plan codes")
    products: list[str] = Field(default_factory=list, description="SKUs")

    def merge(self, other: Entities) -> Entities:
        data = self.model_dump()
        for key, values in other.model_dump().items():
            data[key] = list(dict.fromkeys([*data[key], *values]))
        return Entities(**data)

    def is_empty(self) -> bool:
        return not any(self.model_dump().values())


def _add(bucket: list[str], value: str) -> None:
    if value not in bucket:
        bucket.append(value)


def extract(text: str, today: date, region: str = "US") -> Entities:
    """Entities from raw text (before redaction: card digits survive only as their last four)."""
    out = Entities()
    for match in phonenumbers.PhoneNumberMatcher(text, region):
        _add(
            out.phones,
            phonenumbers.format_number(match.number, phonenumbers.PhoneNumberFormat.E164),
        )
    for m in _EMAIL.finditer(text):
        _add(out.emails, m.group().lower())
    for m in _ACCOUNT.finditer(text):
        _add(out.accounts, ids.account_number(m.group()))
    for m in _ORDER.finditer(text):
        _add(out.orders, m.group(1).upper() + m.group(2) + m.group(3) + m.group(4))
    for m in _AMOUNT.finditer(text):
        raw = (m.group(1) or m.group(2)).replace(",", "")
        try:
            value = ids.amount(raw)
        except InvalidInput:
            continue
        if value not in out.amounts:
            out.amounts.append(value)
    for m in _LAST4.finditer(text):
        _add(out.card_last4, m.group(1))
    out.dates.extend(_dates(text, today))
    out.about_dates.extend(_rough_dates(text, today))
    lowered = text.lower()
    for name, code in _PLAN_NAMES.items():
        if name in lowered:
            _add(out.plans, code)
    for name, sku in {**_PRODUCT_NAMES, **_PRODUCT_WORDS}.items():
        if name in lowered:
            _add(out.products, sku)
    return out


def _rough_dates(text: str, today: date) -> list[date]:
    found: list[date] = []
    for m in _ROUGHLY.finditer(text):
        phrase = m.group(0).lower()
        if "couple" in phrase:
            found.append(today - timedelta(days=14))
        elif "few weeks" in phrase:
            found.append(today - timedelta(days=21))
        elif "month" in phrase:
            n = _NUMBERS.get((m.group(4) or "a").lower()) or int(m.group(4) or 1)
            found.append(today - timedelta(days=30 * n))
    return list(dict.fromkeys(found))


def _dates(text: str, today: date) -> list[date]:
    found: list[date] = []
    for m in _ISO_DATE.finditer(text):
        try:
            found.append(date.fromisoformat(m.group(1)))
        except ValueError:
            continue
    for m in _MONTH_DAY.finditer(text):
        month = _MONTHS.index(m.group(1)[:3].lower()) + 1
        try:
            day = date(today.year, month, int(m.group(2)))
        except ValueError:
            continue
        found.append(day if day <= today else day.replace(year=today.year - 1))
    for m in _RELATIVE.finditer(text):
        phrase = m.group(1).lower()
        if phrase == "today":
            found.append(today)
        elif phrase == "yesterday":
            found.append(today - timedelta(days=1))
        elif phrase == "last week":
            found.append(today - timedelta(days=7))
        else:
            n = _NUMBERS.get(m.group(2).lower()) or int(m.group(2))
            found.append(today - timedelta(days=n * (7 if m.group(3).lower() == "week" else 1)))
    return list(dict.fromkeys(found))
