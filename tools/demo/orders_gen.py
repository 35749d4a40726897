"""Rows of the order system for one chunk of generated customers."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import date, datetime, timedelta

from tools.demo.catalogue import PRODUCTS, SKU_WEIGHTS, STORES
from tools.demo.population import RESERVED_LAST4, Base, Rows, customer_id

TAX = 0.085
CARRIERS = ["UPS", "FedEx", "USPS"]
REASONS = ["Changed my mind", "Wrong size", "Defective", "Did not match description"]
POLICY_DAYS = {"phone": 14, "tablet": 14, "wearable": 14, "accessory": 30, "apparel": 30}


def order_total(prices: list[float]) -> float:
    return round(sum(prices) * (1 + TAX), 2)


def orders_rows(b: Base, as_of: date, rnd: random.Random) -> Rows:
    out: Rows = defaultdict(list)
    as_of_dt = datetime(as_of.year, as_of.month, as_of.day, 9)
    for i, num in enumerate(b.numbers):
        cid = customer_id(num)
        for k in range(min(9, int(rnd.expovariate(0.7)))):
            seq = num * 10 + k
            online = rnd.random() < 0.6
            number = f"{'W' if online else 'S'}{100_000_000 + seq:09d}"
            placed = as_of_dt - timedelta(minutes=int(rnd.random() * 365 * 24 * 60) + 30)
            age = (as_of_dt - placed).days
            picks = rnd.choices(PRODUCTS, SKU_WEIGHTS, k=1 + int(rnd.random() ** 3 * 3))
            if rnd.random() < 0.8:
                brand, last4 = b.card_brand[i], b.card_last4[i]
            else:
                brand, last4 = "Visa", f"{int(rnd.random() * 10_000):04d}"
                last4 = "1000" if last4 in RESERVED_LAST4 else last4
            total = order_total([p[3] for p in picks])
            ref: str | None = cid
            store: str | None = None
            if online:
                status = "placed" if age < 1 else "shipped" if age < 4 else "delivered"
                receipt = True
            else:
                status, store = "completed", STORES[int(rnd.random() * len(STORES))][0]
                ref, receipt = (cid if rnd.random() < 0.85 else None), rnd.random() < 0.9
            out["orders"].append(
                (
                    number,
                    "online" if online else "store",
                    ref,
                    store,
                    placed,
                    placed.date(),
                    status,
                    total,
                    brand,
                    last4,
                    receipt,
                )
            )
            for j, (sku, name, category, price) in enumerate(picks):
                item_id = seq * 4 + j
                out["order_items"].append((item_id, number, sku, name, category, 1, price))
                window = POLICY_DAYS.get(category, 0)
                if (
                    status in ("delivered", "completed")
                    and age < window + 5
                    and rnd.random() < 0.05
                ):
                    requested = placed + timedelta(days=min(age, 3))
                    exchange = rnd.random() < 0.3
                    refunded = not exchange and rnd.random() < 0.6
                    out["returns"].append(
                        (
                            f"RET-{item_id}",
                            number,
                            item_id,
                            "exchange" if exchange else "return",
                            "refunded" if refunded else "requested",
                            requested,
                            REASONS[int(rnd.random() * len(REASONS))],
                            round(price * (1 + TAX), 2) if refunded else 0.0,
                        )
                    )
            if online:
                shipped = placed + timedelta(hours=20) if status != "placed" else None
                delivered = placed + timedelta(days=3) if status == "delivered" else None
                ship_status = {"placed": "label_created", "shipped": "in_transit"}.get(
                    status, "delivered"
                )
                out["shipments"].append(
                    (
                        f"SHP-{seq:09d}",
                        number,
                        CARRIERS[seq % 3],
                        f"1Z{seq:012d}",
                        ship_status,
                        shipped,
                        delivered,
                        (placed + timedelta(days=3)).date(),
                    )
                )
    return out
