"""The whole fast path per event, warm: latency, events per second, memory per live session."""

from __future__ import annotations

import asyncio
import gc
import statistics
import tempfile
import time
import tracemalloc
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from copilot.engine import Engine
from copilot.events import Event
from copilot.runtime import build_engine, optional_models
from copilot.settings import load_settings
from evals.bench.foundation import Figure, ensure_data, percentile
from tools.kb.embeddings import Embedder
from tools.kb.ingest import ingest
from tools.kb.retriever import Retriever
from tools.kb.store import KnowledgeStore, connect
from tools.sql import sql_systems

ARTICLES = Path(__file__).resolve().parents[2] / "tools" / "kb" / "articles" / "brightwave"
SCRIPT = [
    ("customer", "Hi, my number is (415) 555-0101. I got a past due email but I'm on autopay!"),
    ("agent", "I'm sorry about that. Let me pull up your account."),
    ("customer", "I've been with you ten years and never missed a payment."),
    ("agent", "I see the card on file for autopay expired in September."),
    ("customer", "Oh. Can you take my new card and remove that late fee?"),
    ("agent", "Of course. What is the new card?"),
    ("customer", "It's a Visa ending in 2231. Also my data keeps running out every month."),
    ("customer", "Thanks, that's great, you've been really helpful"),
]


def _events(session: str) -> list[Event]:
    t0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
    return [
        Event(
            event_id=f"{session}-{i}",
            session_id=session,
            type="utterance",
            speaker=speaker,
            text=text,
            ts=t0 + timedelta(seconds=i),
        )
        for i, (speaker, text) in enumerate(SCRIPT)
    ]


async def _play(engine: Engine, sessions: int) -> dict[str, float]:
    for event in _events("warm"):
        await engine.handle(event)
    latencies = []
    started = time.perf_counter()
    for n in range(sessions):
        for event in _events(f"s{n}"):
            t = time.perf_counter()
            await engine.handle(event)
            latencies.append((time.perf_counter() - t) * 1000)
    elapsed = time.perf_counter() - started
    # Memory is measured in a separate pass: tracing allocations slows every event down.
    gc.collect()
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    for n in range(10):
        for event in _events(f"m{n}"):
            await engine.handle(event)
    gc.collect()
    per_session = (tracemalloc.get_traced_memory()[0] - before) / 10
    tracemalloc.stop()
    return {
        "events": len(latencies),
        "p50_ms": statistics.median(latencies),
        "p95_ms": percentile(latencies, 95),
        "events_per_s": len(latencies) / elapsed,
        "kib_per_session": per_session / 1024,
    }


def offline_engine(
    url: str,
    data: Path,
    kb: KnowledgeStore,
    embedder: Embedder,
    intent: Any,
    mood: Any,
    shared: Embedder | None,
) -> Engine:
    """A benchmark's engine: the shipped playbooks and offers, no slow path, no ledgers.
    shared: the embedder the engine's signals use (None: each signal embeds on its own)."""
    return build_engine(
        load_settings(llm_base_url=None),
        url,
        systems=sql_systems(data),
        retriever=Retriever(kb, embedder),
        intent=intent,
        mood=mood,
        embedder=shared,
        enricher=None,
        actions=None,
        touchpoints=None,
        ledger=None,
    )


def run(sessions: int = 40) -> dict[str, Any]:
    """The engine as shipped beside the baseline that embeds once per signal, in one run."""
    data = ensure_data(Path("var/bench/c5000"), 5000)
    scratch = Path(tempfile.mkdtemp(prefix="engine-bench-"))
    embedder = Embedder()
    kb = KnowledgeStore(connect(scratch / "kb"))
    ingest(kb, embedder, ARTICLES)
    intent, mood = optional_models(embedder)
    out: dict[str, Any] = {
        "models": [name for name, m in (("intent", intent), ("mood", mood)) if m is not None]
    }
    for name, shared in (("shared", embedder), ("baseline", None)):
        engine = offline_engine(
            f"sqlite:///{scratch / f'{name}.db'}", data, kb, embedder, intent, mood, shared
        )
        out[name] = asyncio.run(_play(engine, sessions))
    out["events"] = out["shared"]["events"]
    return out


def figures(result: dict[str, Any]) -> list[Figure]:
    """The baseline embeds each signal's own text: intent, mood and the knowledge query."""
    now, base = result["shared"], result["baseline"]
    rows = [
        ("fast path per event p95", "p95_ms", "ms", "<= 50 ms warm"),
        ("fast path per event p50", "p50_ms", "ms", ""),
        ("events/s, one process", "events_per_s", "/s", ""),
        ("memory per live session", "kib_per_session", "KiB", ""),
    ]
    return [Figure(name, now[k], unit, "per-signal", base[k], goal) for name, k, unit, goal in rows]
