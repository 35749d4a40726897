"""Parse and normalize the identifiers customers and agents type, rejecting malformed ones."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

import phonenumbers

from tools.errors import InvalidInput

MAX_INPUT = 128
DEFAULT_REGION = "US"

CUSTOMER_ID_RE = re.compile(r"^CUS-\d{7}$")
_ACCOUNT_RE = re.compile(r"^BA[\s-]?(\d{4})[\s-]?(\d{4})$", re.IGNORECASE)
_ORDER_RE = re.compile(r"^#?\s*([WS])[\s-]?(\d{3})[\s-]?(\d{3})[\s-]?(\d{3})$", re.IGNORECASE)
_EMAIL_RE = re.compile(r"^[A-Za-z0-9._%+'-]{1,64}@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}$")
_HANDLE_RE = re.compile(r"^@?([A-Za-z0-9_.]{2,30})$")
_NAME_RE = re.compile(r"^[^\W\d_]+(?:[ '\-.][^\W\d_]+)*$")
_POSTAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$")
_LAST4_RE = re.compile(r"^\d{4}$")


def _text(field: str, raw: str, limit: int = MAX_INPUT) -> str:
    value = raw.strip()
    if not value:
        raise InvalidInput(field, "must not be empty")
    if len(value) > limit:
        raise InvalidInput(field, f"is {len(value)} characters long; at most {limit} allowed")
    if any(ord(ch) < 32 for ch in value):
        raise InvalidInput(field, "contains control characters")
    return value


def customer_id(raw: str) -> str:
    value = _text("customer_id", raw, 32).upper()
    if not CUSTOMER_ID_RE.match(value):
        raise InvalidInput("customer_id", "expected the form CUS-1234567")
    return value


def phone(raw: str, region: str = DEFAULT_REGION) -> str:
    """Any common format to E.164: '(415) 555-0142', '415.555.0142', '+1 415 555 0142'."""
    value = _text("phone", raw, 32)
    if not re.fullmatch(r"[\d\s().+\-/]+", value):
        raise InvalidInput("phone", "may hold only digits, spaces and + ( ) . - /")
    try:
        parsed = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException as exc:
        raise InvalidInput("phone", "is not a phone number") from exc
    reason = phonenumbers.is_possible_number_with_reason(parsed)
    if reason != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise InvalidInput("phone", "has the wrong number of digits for a full phone number")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def email(raw: str) -> str:
    value = _text("email", raw, 254)
    if not _EMAIL_RE.match(value):
        raise InvalidInput("email", "is not an email address")
    return value.lower()


def account_number(raw: str) -> str:
    value = _text("account", raw, 32)
    match = _ACCOUNT_RE.match(value)
    if not match:
        raise InvalidInput("account", "expected a billing account number like BA1234 5678")
    return f"BA{match.group(1)}{match.group(2)}"


def order_number(raw: str) -> str:
    value = _text("order", raw, 32)
    match = _ORDER_RE.match(value)
    if not match:
        raise InvalidInput("order", "expected an order number like W123456789 or S123456789")
    return match.group(1).upper() + "".join(match.groups()[1:])


def social_handle(raw: str) -> str:
    value = _text("social", raw, 31)
    match = _HANDLE_RE.match(value)
    if not match:
        raise InvalidInput("social", "expected a handle like @name (letters, digits, _ and .)")
    return "@" + match.group(1).lower()


def card_last4(raw: str) -> str:
    value = _text("card_last4", raw, 4)
    if not _LAST4_RE.match(value):
        raise InvalidInput("card_last4", "expected exactly the last four digits of the card")
    return value


def amount(raw: str | float) -> float:
    text = _text("amount", str(raw), 16).lstrip("$").replace(",", "")
    try:
        value = Decimal(text)
    except InvalidOperation as exc:
        raise InvalidInput("amount", "is not a number") from exc
    if not value.is_finite() or value <= 0 or value >= Decimal(1_000_000):
        raise InvalidInput("amount", "must be a positive amount below 1,000,000")
    if value.as_tuple().exponent < -2:  # type: ignore[operator]
        raise InvalidInput("amount", "has more than two decimals")
    return float(value)


def purchase_date(raw: str | date) -> date:
    if isinstance(raw, date):
        return raw
    text = _text("date", raw, 10)
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise InvalidInput("date", "expected a date as YYYY-MM-DD") from exc


def person_name(raw: str) -> str:
    value = " ".join(_text("name", raw, 130).split())
    if not _NAME_RE.match(value) or " " not in value:
        raise InvalidInput("name", "expected a first and last name (letters only)")
    return value.lower()


def postal_code(raw: str) -> str:
    value = _text("postal_code", raw, 10)
    if not _POSTAL_RE.match(value):
        raise InvalidInput("postal_code", "is not a postal code")
    key = value.replace(" ", "").replace("-", "").upper()
    # A US ZIP+4 finds the same address as its five-digit ZIP.
    return key[:5] if len(key) == 9 and key.isdigit() else key
