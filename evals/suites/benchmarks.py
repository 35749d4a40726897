"""One suite per external dataset: each benchmark's figures, as metrics with their baselines."""

from __future__ import annotations

import asyncio
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from evals.bench.foundation import Figure
from evals.bench.knowledge import DATASETS
from evals.quiet_ragas import prepare
from evals.report import Metric, Suite, slug


def _metrics(figures: list[Figure], source: str) -> list[Metric]:
    out: list[Metric] = []
    seen: set[str] = set()
    for f in figures:
        key = slug(f.name)
        if key in seen:  # the same figure against a second baseline
            key = f"{key}_vs_{slug(f.baseline_name)}"
        seen.add(key)
        lower = f.unit == "ms" or "unknown" in f.name
        out.append(
            Metric(
                key=key,
                label=f.name,
                value=round(f.value, 4),
                unit=f.unit,
                better="lower" if lower else "higher",
                baseline=round(f.baseline, 4) if f.baseline_name else None,
                baseline_label=f.baseline_name,
                note=f.target,
                source=source,
            )
        )
    return out


def intent(root: Path) -> list[Metric]:
    from evals.bench import intent as bench

    return _metrics(bench.figures(bench.run(root)), "banking77 test")


def mood(root: Path) -> list[Metric]:
    from evals.bench import mood as bench

    return _metrics(bench.figures(bench.run(root)), "twitter_airline_sentiment test, uss MWOZ")


def summary(root: Path) -> list[Metric]:
    prepare()
    from ragas.metrics.collections import RougeScore

    from copilot.extractive import Weights, summarize
    from evals.bench import summary as bench
    from evals.bench.summary import load

    out = _metrics(bench.figures(bench.run(root)), "tweetsumm test")
    _, test = load(root)
    made = [summarize(d.turns, Weights()) for d in test]

    async def best() -> list[float]:
        rouge = RougeScore(rouge_type="rougeL", mode="fmeasure")
        scores = []
        for dialog, text in zip(test, made, strict=True):
            got = [await rouge.ascore(reference=r, response=text) for r in dialog.references]
            scores.append(max(float(g.value) for g in got))
        return scores

    out.append(
        Metric(
            key="ragas_rouge_l",
            label="RougeScore rougeL F1 (best reference)",
            value=round(statistics.fmean(asyncio.run(best())), 4),
            source="ragas",
            note=f"{len(test)} dialogs",
        )
    )
    return out


def retrieval(root: Path) -> list[Metric]:
    from evals.bench import knowledge as bench

    try:
        result = bench.run(root, at_scale=False)
    except bench.DatasetMissing as exc:
        raise FileNotFoundError(str(exc)) from None
    return _metrics(bench.figures(result), "dstc11_track5_val FAQ turns")


def nba(root: Path) -> list[Metric]:
    from evals.bench import nba as bench

    return _metrics(bench.figures(bench.run(root / "abcd")), "abcd samples")


SUITES: dict[str, tuple[Callable[[Path], list[Metric]], str]] = {
    "intent": (intent, "banking77"),
    "mood": (mood, "twitter_airline_sentiment and uss_user_satisfaction"),
    "summary": (summary, "tweetsumm"),
    "retrieval": (retrieval, "dstc11_track5_val"),
    "nba": (nba, "abcd"),
}


def run(name: str, root: Path = DATASETS) -> Suite:
    """One benchmark suite; absent data skips it with a message, a crash is reported."""
    measure, data = SUITES[name]
    started = time.perf_counter()
    try:
        metrics = measure(root)
    except FileNotFoundError as exc:
        return Suite(name=name, status="skipped", message=f"{data} not available: {exc}")
    except Exception as exc:
        return Suite(name=name, status="error", message=f"{type(exc).__name__}: {exc}")
    return Suite(
        name=name,
        status="ran",
        message=f"on {data}",
        seconds=round(time.perf_counter() - started, 2),
        metrics=metrics,
    )
