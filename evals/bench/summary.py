"""Summaries of real customer-care conversations (tweetsumm): ROUGE against human abstracts.

The first 657 dialogs are dev (weights were chosen there); the last 200 are test (reported).
"""

from __future__ import annotations

import json
import statistics
from dataclasses import dataclass
from pathlib import Path
from typing import cast

from rouge_score import rouge_scorer

from copilot.extractive import Weights, lead, summarize
from evals.bench.foundation import Figure

FILE = "tweetsumm/tweetsumm_train_with_text.jsonl"
DEV = 657
METRICS = ("rouge1", "rouge2", "rougeL")


@dataclass(frozen=True)
class Dialog:
    turns: list[tuple[str, str]]
    references: list[str]


def load(datasets: Path) -> tuple[list[Dialog], list[Dialog]]:
    path = datasets / FILE
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found")
    dialogs = []
    for line in path.read_text().splitlines():
        row = json.loads(line)
        refs = [
            " ".join(s) if isinstance(s, list) else str(s) for s in row["abstractive_summaries"]
        ]
        dialogs.append(Dialog([(t["speaker"], t["text"]) for t in row["turns"]], refs))
    return dialogs[:DEV], dialogs[DEV:]


def score(dialogs: list[Dialog], summaries: list[str]) -> dict[str, float]:
    """Mean over dialogs of the best F1 against any of the references, per ROUGE variant."""
    scorer = rouge_scorer.RougeScorer(list(METRICS), use_stemmer=True)
    out: dict[str, list[float]] = {m: [] for m in METRICS}
    for dialog, summary in zip(dialogs, summaries, strict=True):
        results = [scorer.score(ref, summary) for ref in dialog.references]
        for m in METRICS:
            out[m].append(max(r[m].fmeasure for r in results))
    return {m: statistics.fmean(v) for m, v in out.items()}


def tune(dev: list[Dialog]) -> Weights:
    """Grid search on dev only."""
    best: tuple[float, Weights] = (-1.0, Weights())
    for cp in (0.0, 0.2, 0.4, 0.6, 0.8, 1.0):
        for ap in (0.0, 0.2, 0.4, 0.6):
            w = Weights(customer_position=cp, agent_position=ap)
            got = score(dev, [summarize(d.turns, w) for d in dev])["rougeL"]
            if got > best[0]:
                best = (got, w)
    return best[1]


def run(datasets: Path, retune: bool = False) -> dict[str, object]:
    dev, test = load(datasets)
    weights = tune(dev) if retune else Weights()
    return {
        "dialogs": len(test),
        "weights": weights,
        "ours": score(test, [summarize(d.turns, weights) for d in test]),
        "lead2": score(test, [lead(d.turns, 2) for d in test]),
    }


def figures(result: dict[str, object]) -> list[Figure]:
    ours = cast(dict[str, float], result["ours"])
    base = cast(dict[str, float], result["lead2"])
    return [
        Figure(f"extractive {m.upper()} F1", ours[m], "", f"Lead-2 {m.upper()}", base[m], "")
        for m in METRICS
    ]
