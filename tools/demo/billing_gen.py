"""Rows of the billing system for one chunk of generated customers."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from tools.demo.catalogue import ADDON_CODES, PLAN_CODES, PLAN_DATA, PLAN_FEE, PLAN_WEIGHTS
from tools.demo.population import Base, Rows, account_number, customer_id, phone

MONTHS = 6
OVERAGE_PER_GB = 10.0
LATE_FEE = 15.0
TAX = 0.085
FAILURES = ["card_expired", "insufficient_funds", "card_declined"]


def billing_months(as_of: date, count: int = MONTHS) -> list[date]:
    """First days of the last `count` complete months before as_of's month, oldest first."""
    first = as_of.replace(day=1)
    out = []
    for _ in range(count):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first)
    return out[::-1]


def next_month(d: date) -> date:
    return (d.replace(day=28) + timedelta(days=4)).replace(day=1)


def invoice_amount(fees: float, overage_gb: float) -> float:
    return round((fees + math.ceil(max(0.0, overage_gb)) * OVERAGE_PER_GB) * (1 + TAX), 2)


def billing_rows(b: Base, as_of: date, rnd: random.Random) -> Rows:
    out: Rows = defaultdict(list)
    months = billing_months(as_of)
    calendar = []
    for month in months:
        issued = next_month(month)
        due = issued + timedelta(days=20)
        pay_at = datetime(due.year, due.month, due.day, 6) - timedelta(days=3)
        end = issued - timedelta(days=1)
        calendar.append((month, month.strftime("%Y-%m"), f"{month:%Y%m}", end, issued, due, pay_at))
    for i, num in enumerate(b.numbers):
        acct = account_number(num)
        fees = 0.0
        line_usage: list[float] = [0.0] * MONTHS
        heavy = rnd.random() < 0.15
        for k in range(b.n_lines[i]):
            line_id = f"L{num:07d}{k}"
            plan = rnd.choices(PLAN_CODES, PLAN_WEIGHTS)[0]
            fees += PLAN_FEE[plan]
            activated = b.since[i] + timedelta(days=k * 90)
            out["lines"].append(
                (line_id, acct, phone(num, k)[1], plan, "active", min(activated, as_of))
            )
            extra = 0.0
            if rnd.random() < 0.15:
                addon = ADDON_CODES[int(rnd.random() * len(ADDON_CODES))]
                out["line_addons"].append((num * 4 + k, line_id, addon))
                fees += PLAN_FEE[addon]
                extra = 5.0 if addon == "DATA-5" else 0.0
            allowance = PLAN_DATA[plan]
            for m in range(MONTHS):
                if allowance is None:
                    used = round(5 + rnd.random() * 55, 1)
                else:
                    factor = rnd.gauss(1.12 if heavy else 0.65, 0.15)
                    used = round(max(0.1, (allowance + extra) * factor), 1)
                    line_usage[m] += max(0.0, used - allowance - extra)
                minutes = int(rnd.random() * 900)
                out["usage"].append((line_id, calendar[m][1], used, minutes))
        autopay = b.autopay[i]
        failed = autopay and rnd.random() < 0.04
        past_due = failed or rnd.random() < 0.02
        balance = 0.0
        for m, (month, _, yyyymm, end, issued, due, pay_at) in enumerate(calendar):
            amount = invoice_amount(fees, line_usage[m])
            inv = f"INV-{num:07d}-{yyyymm}"
            last = m == MONTHS - 1
            if last and due >= as_of:
                status, paid = "open", 0.0
                balance += amount
            elif last and past_due:
                status, paid = "past_due", 0.0
                balance += amount + LATE_FEE
                fee_at = datetime(due.year, due.month, due.day) + timedelta(days=1)
                out["adjustments"].append(
                    (
                        f"ADJ-{num:07d}-L",
                        acct,
                        "late_fee",
                        LATE_FEE,
                        "Late payment fee",
                        fee_at,
                        inv,
                    )
                )
            else:
                status, paid = "paid", amount
            out["invoices"].append((inv, acct, month, end, issued, due, amount, paid, status))
            method = "autopay_card" if autopay else ("card", "bank")[num % 2]
            if status == "paid":
                out["payments"].append(
                    (f"PAY-{num:07d}-{m}", acct, inv, pay_at, amount, method, "succeeded", None)
                )
            elif failed:
                reason = FAILURES[num % 3]
                out["payments"].append(
                    (f"PAY-{num:07d}-{m}", acct, inv, pay_at, amount, method, "failed", reason)
                )
        if autopay:
            failure: str | None = FAILURES[num % 3] if failed else None
            exp_year = (as_of.year - 1) if failure == "card_expired" else as_of.year + 2
            last_attempt = datetime(as_of.year, as_of.month, 1, 6) if failed else None
            out["autopay_mandates"].append(
                (
                    f"MAN-{num:07d}",
                    acct,
                    "card",
                    b.card_brand[i],
                    b.card_last4[i],
                    f"{1 + num % 12:02d}/{exp_year % 100:02d}",
                    "failed" if failed else "active",
                    b.since[i],
                    last_attempt,
                    failure,
                )
            )
        if rnd.random() < 0.05:
            at = datetime(as_of.year, as_of.month, 1) - timedelta(days=int(rnd.random() * 120))
            out["adjustments"].append(
                (
                    f"ADJ-{num:07d}-C",
                    acct,
                    "credit",
                    round(5 + rnd.random() * 20, 2),
                    "Goodwill credit for a network outage",
                    at,
                    None,
                )
            )
        status = "suspended" if past_due and rnd.random() < 0.1 else "active"
        out["accounts"].append(
            (acct, customer_id(num), status, b.since[i], round(balance, 2), "USD")
        )
    return out
