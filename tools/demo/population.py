"""Attributes every silo agrees on for generated customer number i, derived from the seed alone.

Each silo is generated in its own process; they stay consistent because the shared attributes
(names, phones, cards, tenure) are pure functions of (seed, chunk) and the customer number.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from tools.demo.catalogue import CITIES, FIRST_NAMES, LAST_NAMES

CHUNK = 20_000
Rows = dict[str, list[tuple[object, ...]]]
# Story customers own these; generated data never uses them, so stories never become ambiguous.
RESERVED_LAST4 = {"7319", "4417", "0612", "8830", "5521", "2284"}
_PHONE_AREAS = [
    "206", "253", "360", "425", "503", "541", "971", "408", "510", "650",
    "669", "707", "916", "925", "303", "720", "208", "509", "775", "801",
    "385", "458", "564", "628", "341", "279", "530", "559", "661", "805",
]  # fmt: skip
_NXX = [n for n in range(200, 1000) if n != 555]
_PHONE_SPACE = len(_PHONE_AREAS) * len(_NXX) * 10_000
_PHONE_MULT = 1_000_003
_ACCOUNT_SPACE = 80_000_000
_ACCOUNT_MULT = 48_271
CARD_BRANDS = ["Visa", "Mastercard", "Amex", "Discover"]


def customer_id(number: int) -> str:
    return f"CUS-{number:07d}"


def account_number(number: int) -> str:
    """A unique BA-number per customer, scattered so neighbours do not get neighbouring numbers."""
    value = 10_000_000 + (number * _ACCOUNT_MULT + 12_345) % _ACCOUNT_SPACE
    return f"BA{value:08d}"


def phone(number: int, slot: int) -> tuple[str, str]:
    """(display, E.164) of phone slot 0-3 of a customer; unique across the whole population."""
    p = ((number * 4 + slot) * _PHONE_MULT + 7_919) % _PHONE_SPACE
    area, rest = divmod(p, len(_NXX) * 10_000)
    nxx, line = divmod(rest, 10_000)
    a, n = _PHONE_AREAS[area], _NXX[nxx]
    return f"({a}) {n}-{line:04d}", f"+1{a}{n}{line:04d}"


@dataclass(frozen=True)
class Base:
    """Shared attributes of one chunk of generated customers, as parallel Python lists."""

    numbers: list[int]
    first: list[str]
    last: list[str]
    since: list[date]
    segment: list[str]
    n_lines: list[int]
    card_brand: list[str]
    card_last4: list[str]
    city: list[int]
    zip_suffix: list[int]
    autopay: list[bool]


def chunk_rng(seed: int, chunk_no: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([seed, chunk_no, stream])


def base(seed: int, as_of: date, start: int, stop: int) -> Base:
    """Shared attributes of customers start..stop-1 (chunk-aligned)."""
    rng = chunk_rng(seed, start // CHUNK, 0)
    n = stop - start
    tenure = rng.integers(30, 15 * 365, n)
    segment = rng.choice(3, n, p=[0.7, 0.2, 0.1])
    lines = np.where(
        segment == 1,
        rng.integers(2, 4, n),
        np.where(segment == 2, rng.integers(1, 4, n), 1 + (rng.random(n) < 0.15)),
    )
    last4 = [f"{x:04d}" for x in rng.integers(0, 10_000, n).tolist()]
    last4 = [x if x not in RESERVED_LAST4 else "1000" for x in last4]
    names = ["consumer", "family", "small_business"]
    return Base(
        numbers=list(range(start, stop)),
        first=[FIRST_NAMES[i] for i in rng.integers(0, len(FIRST_NAMES), n).tolist()],
        last=[LAST_NAMES[i] for i in rng.integers(0, len(LAST_NAMES), n).tolist()],
        since=[as_of - timedelta(days=d) for d in tenure.tolist()],
        segment=[names[s] for s in segment.tolist()],
        n_lines=lines.tolist(),
        card_brand=[CARD_BRANDS[i] for i in rng.choice(4, n, p=[0.5, 0.3, 0.12, 0.08]).tolist()],
        card_last4=last4,
        city=rng.integers(0, len(CITIES), n).tolist(),
        zip_suffix=rng.integers(0, 60, n).tolist(),
        autopay=(rng.random(n) < 0.6).tolist(),
    )


def chunks(customers: int) -> list[tuple[int, int]]:
    """Chunk-aligned [start, stop) ranges of customer numbers 1..customers."""
    out = []
    start = 1
    while start <= customers:
        stop = min((start // CHUNK + 1) * CHUNK, customers + 1)
        out.append((start, stop))
        start = stop
    return out
