"""Benchmarks of the data layer: each prints its figures beside its baseline, in one run."""

from __future__ import annotations

import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from tools.base import Systems
from tools.demo.generate import Spec, generate, read_spec
from tools.identity import IdentityQuery, resolve
from tools.sql import sql_systems
from tools.view import customer_360


@dataclass(frozen=True)
class Figure:
    name: str
    value: float
    unit: str
    baseline_name: str
    baseline: float
    target: str


def percentile(values: list[float], pct: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1))))
    return ordered[k]


def ensure_data(data_dir: Path, customers: int, seed: int = 42) -> Path:
    """Reuse data_dir when it already holds exactly this data; build it otherwise."""
    spec = Spec(customers=customers, seed=seed, as_of=date.today())
    if read_spec(data_dir) != spec:
        generate(data_dir, spec)
    return data_dir


def sample_ids(data_dir: Path, n: int, seed: int = 7) -> list[str]:
    with sqlite3.connect(f"file:{data_dir / 'crm.db'}?mode=ro", uri=True) as conn:
        all_ids = [r[0] for r in conn.execute("SELECT customer_id FROM customers")]
    return random.Random(seed).sample(all_ids, min(n, len(all_ids)))


async def _time_360(systems: Systems, ids: list[str], parallel: bool) -> list[float]:
    out = []
    for cid in ids:
        start = time.perf_counter()
        await customer_360(systems, cid, parallel=parallel)
        out.append((time.perf_counter() - start) * 1000)
    return out


def bench_view(data_dir: Path, latency_ms: float, rounds: int) -> list[Figure]:
    """customer_360 over the REST backend with injected latency: parallel vs sequential."""
    from tools.rest import rest_systems
    from tools.services import start_services

    ids = sample_ids(data_dir, rounds)
    with start_services(data_dir, latency_ms=latency_ms) as running:

        async def run() -> tuple[list[float], list[float]]:
            systems = rest_systems(running.urls, timeout_s=5.0)
            await _time_360(systems, ids[:3], True)  # warm the connection pools
            par: list[float] = []
            seq: list[float] = []
            for cid in ids:  # interleaved, so noise hits both alike
                par += await _time_360(systems, [cid], True)
                seq += await _time_360(systems, [cid], False)
            await systems.aclose()
            return par, seq

        par, seq = asyncio.run(run())
    target = "<= 130 ms"
    return [
        Figure(
            "360 parallel p50",
            statistics.median(par),
            "ms",
            "sequential p50",
            statistics.median(seq),
            target,
        ),
        Figure(
            "360 parallel p95", percentile(par, 95), "ms", "sequential p95", percentile(seq, 95), ""
        ),
    ]


def resolve_queries(data_dir: Path, n: int, seed: int = 11) -> list[tuple[str, IdentityQuery]]:
    """A realistic mix of identifiers drawn from the data itself, in the formats people type."""
    rnd = random.Random(seed)
    crm = sqlite3.connect(f"file:{data_dir / 'crm.db'}?mode=ro", uri=True)
    billing = sqlite3.connect(f"file:{data_dir / 'billing.db'}?mode=ro", uri=True)
    orders = sqlite3.connect(f"file:{data_dir / 'orders.db'}?mode=ro", uri=True)
    per = max(1, n // 6)

    def pick(conn: sqlite3.Connection, sql: str) -> list[tuple[str, ...]]:
        rows = conn.execute(sql).fetchall()
        return rnd.sample(rows, min(per, len(rows)))

    out: list[tuple[str, IdentityQuery]] = []
    for (value,) in pick(crm, "SELECT value FROM contact_points WHERE kind='phone'"):
        out.append(("phone", IdentityQuery(phone=value)))
    for (value,) in pick(crm, "SELECT value FROM contact_points WHERE kind='email'"):
        out.append(("email", IdentityQuery(email=value.upper())))
    for (value,) in pick(billing, "SELECT account_number FROM accounts"):
        out.append(("account", IdentityQuery(account=f"{value[:6]} {value[6:]}")))
    for (value,) in pick(orders, "SELECT order_number FROM orders"):
        out.append(("order", IdentityQuery(order=value)))
    for last4, day, total in pick(
        orders, "SELECT card_last4, purchase_date, total FROM orders WHERE channel='store'"
    ):
        out.append(
            ("card_purchase", IdentityQuery(card_last4=last4, purchase_date=day, amount=str(total)))
        )
    for name, postal in pick(
        crm,
        "SELECT c.first_name || ' ' || c.last_name, a.postal_code FROM customers c "
        "JOIN addresses a USING (customer_id)",
    ):
        out.append(("name_postal", IdentityQuery(name=name, postal_code=postal)))
    for conn in (crm, billing, orders):
        conn.close()
    rnd.shuffle(out)
    return out


def time_resolve(
    data_dir: Path, queries: list[tuple[str, IdentityQuery]]
) -> dict[str, list[float]]:
    systems = sql_systems(data_dir)

    async def run() -> dict[str, list[float]]:
        out: dict[str, list[float]] = defaultdict(list)
        for _, q in queries[:20]:
            await resolve(systems, q)
        for kind, q in queries:
            start = time.perf_counter()
            await resolve(systems, q)
            out[kind].append((time.perf_counter() - start) * 1000)
        return out

    return asyncio.run(run())


def bench_resolve(big_dir: Path, small_dir: Path, queries: int) -> list[Figure]:
    """resolve() p50/p95 at 100,000 customers beside the same mix at the demo's 5,000."""
    big = time_resolve(big_dir, resolve_queries(big_dir, queries))
    small = time_resolve(small_dir, resolve_queries(small_dir, queries))
    figures = []
    for kind in sorted(big):
        figures.append(
            Figure(
                f"resolve {kind} p95",
                percentile(big[kind], 95),
                "ms",
                "at 5k",
                percentile(small.get(kind, [0.0]), 95),
                "",
            )
        )
    all_big = [v for vs in big.values() for v in vs]
    all_small = [v for vs in small.values() for v in vs]
    figures.append(
        Figure(
            "resolve all p50",
            statistics.median(all_big),
            "ms",
            "at 5k",
            statistics.median(all_small),
            "",
        )
    )
    figures.append(
        Figure(
            "resolve all p95",
            percentile(all_big, 95),
            "ms",
            "at 5k",
            percentile(all_small, 95),
            "<= 10 ms",
        )
    )
    return figures


def bench_generate(customers: int, baseline_customers: int) -> list[Figure]:
    """Generation throughput at full size beside a smaller run, to show it scales linearly."""
    results = {}
    for n in (baseline_customers, customers):
        with tempfile.TemporaryDirectory(prefix="copilot-gen-") as tmp:
            report = generate(Path(tmp), Spec(customers=n, seed=42, as_of=date.today()))
            results[n] = (report.seconds, sum(report.rows.values()))
    secs, rows = results[customers]
    base_secs, base_rows = results[baseline_customers]
    return [
        Figure(
            f"generate {customers:,} customers",
            secs,
            "s",
            f"{baseline_customers:,} customers",
            base_secs,
            "< 300 s for 1,000,000",
        ),
        Figure(
            "customers/s",
            customers / secs,
            "/s",
            "at baseline size",
            baseline_customers / base_secs,
            "",
        ),
        Figure("rows/s", rows / secs, "/s", "at baseline size", base_rows / base_secs, ""),
    ]


def progress_bar(console: Console, remaining: bool = False, disable: bool = False) -> Progress:
    """The bar every long eval and benchmark shows: step, bar, n/total, elapsed (and left)."""
    columns: list[ProgressColumn] = [
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    ]
    if remaining:
        columns.append(TimeRemainingColumn())
    return Progress(*columns, console=console, transient=True, disable=disable)
