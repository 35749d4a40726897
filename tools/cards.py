"""Cards as billing may hold them: a brand, the last four digits, an expiry and an opaque token.

A full card number or a security code never reaches billing: the customer types them into the
secure payment form, which hands billing only what is here.
"""

from __future__ import annotations

import re
import secrets
import string
from datetime import date

REF_PREFIX = "pm_"
REF_PATTERN = r"^pm_[A-Za-z0-9_-]{16,64}$"
REF_LENGTH = 24
# Letters only: url-safe, and no run of digits that a card-number check would flag.
_REF_CHARS = string.ascii_letters
_REF_RE = re.compile(REF_PATTERN)
CARD_NUMBER_DIGITS = 13
BRANDS = {
    "visa": "Visa",
    "mastercard": "Mastercard",
    "master card": "Mastercard",
    "amex": "Amex",
    "american express": "Amex",
    "discover": "Discover",
}
# Keys a form must never forward: what they hold is exactly what billing may not store.
CARD_DATA_KEYS = frozenset(
    {"card_number", "number", "pan", "cvv", "cvv2", "cvc", "cvc2", "cid", "security_code"}
)


def new_token() -> str:
    """A fresh opaque reference: pm_ and 24 random letters."""
    return REF_PREFIX + "".join(secrets.choice(_REF_CHARS) for _ in range(REF_LENGTH))


def holds_card_number(value: str) -> bool:
    """Whether the text carries 13 or more digits, however spaced: it may be a card number."""
    return sum(ch.isdigit() for ch in value) >= CARD_NUMBER_DIGITS


def payment_token(value: str) -> str:
    """A token reference as given; ValueError (for pydantic) for a card number or anything else."""
    if holds_card_number(value):
        raise ValueError(
            "looks like a card number: never take card numbers in the conversation; send the "
            "customer the secure payment form and use the token it returns (pm_...)"
        )
    if not _REF_RE.match(value):
        raise ValueError(
            "expected the token the secure payment form returns: pm_ and 16-64 letters, "
            "digits, _ or -"
        )
    return value


def brand_name(raw: str) -> str:
    """The brand as billing spells it; ValueError for one it does not take."""
    brand = BRANDS.get(" ".join(raw.lower().split()))
    if brand is None:
        taken = ", ".join(sorted(set(BRANDS.values())))
        raise ValueError(f"expected one of {taken}")
    return brand


def expiry_text(month: int, year: int) -> str:
    """MM/YY, as mandates store it."""
    return f"{month:02d}/{year % 100:02d}"


def expiry_of(text: str | None) -> tuple[int, int] | None:
    """(month, four-digit year) of an MM/YY expiry; None when there is none or it is garbled."""
    month, _, year = (text or "").partition("/")
    if not (month.isdigit() and year.isdigit() and 1 <= int(month) <= 12):
        return None
    return int(month), 2000 + int(year) % 100


def expired(month: int, year: int, today: date) -> bool:
    """A card works through the last day of its expiry month."""
    return (year, month) < (today.year, today.month)


def card_words(brand: str | None, last4: str | None) -> str:
    """E.g. 'Visa ****4417'."""
    return f"{brand or 'card'} ****{last4}" if last4 else brand or "card"


def expiry_state(expiry: str | None, today: date) -> str | None:
    """E.g. 'expired 09/25' or 'exp 08/29'; None when there is no expiry to read."""
    parsed = expiry_of(expiry)
    if parsed is None:
        return None
    return f"{'expired' if expired(*parsed, today) else 'exp'} {expiry_text(*parsed)}"


def card_state(brand: str | None, last4: str | None, expiry: str | None, today: date) -> str:
    """E.g. 'Visa ****4417, expired 09/25' or 'Mastercard ****5678, exp 08/29'."""
    state = expiry_state(expiry, today)
    return card_words(brand, last4) + (f", {state}" if state else "")


def card_phrase(brand: str | None, last4: str | None, expiry: str | None, today: date) -> str:
    """E.g. 'Visa ****4417 (expired 09/25)', for a sentence."""
    state = expiry_state(expiry, today)
    return card_words(brand, last4) + (f" ({state})" if state else "")
