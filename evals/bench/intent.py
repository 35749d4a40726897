"""Intent classification on banking77: our model beside the plain baseline, in one run.

Train on train.csv only (everything ours tunes is chosen by cross-validation there); test.csv is
read once, for the figures. The baseline is all-MiniLM-L6-v2 embeddings with scikit-learn's
LogisticRegression at its defaults, fitted on the same vectors.
"""

from __future__ import annotations

import os
import statistics
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from copilot.intent import read_training_csv, train
from evals.bench.foundation import Figure, percentile
from tools.kb.embeddings import Embedder

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"  # ../shared
SOURCE = {
    "file": "banking77/train.csv",
    "source": "PolyAI banking77 (Casanueva et al. 2020), banking_data/train.csv",
    "licence": "CC BY 4.0",
}
TIMED = 300  # test utterances timed one at a time


def _embed(embedder: Embedder, texts: list[str]) -> Any:
    return np.asarray(embedder.embed(texts), dtype=np.float64)


def _timings(
    ours: Callable[[str], object], baseline: Callable[[str], object], texts: list[str]
) -> tuple[list[float], list[float]]:
    """Milliseconds per text for each, interleaved so that noise hits both alike."""
    for text in texts[:5]:  # warm up: first calls allocate
        ours(text)
        baseline(text)
    out: tuple[list[float], list[float]] = ([], [])
    for text in texts:
        for predict, times in zip((ours, baseline), out, strict=True):
            start = time.perf_counter()
            predict(text)
            times.append((time.perf_counter() - start) * 1000)
    return out


def run(
    datasets: Path = DATASETS, progress: Callable[[str, int, int], None] | None = None
) -> dict[str, Any]:
    """Every figure of the benchmark, measured in one run."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score

    folder = datasets / "banking77"
    for name in ("train.csv", "test.csv"):
        if not (folder / name).is_file():
            raise FileNotFoundError(
                f"{folder / name} not found: put banking77 (train.csv, test.csv) under {folder}"
            )
    train_rows = read_training_csv(folder / "train.csv")
    test_rows = read_training_csv(folder / "test.csv")
    embedder = Embedder()
    train_vectors = _embed(embedder, [t for t, _ in train_rows])
    start = time.perf_counter()
    model = train(train_rows, embedder, SOURCE, progress, vectors=train_vectors)
    train_s = time.perf_counter() - start

    baseline = LogisticRegression()
    with warnings.catch_warnings():  # defaults as they are: max_iter=100 may warn, and stays
        warnings.simplefilter("ignore")
        baseline.fit(train_vectors, [i for _, i in train_rows])

    texts, gold = [t for t, _ in test_rows], [i for _, i in test_rows]
    test_vectors = _embed(embedder, texts)
    probs = model.probabilities(texts, test_vectors)
    ours = [model.labels[k] for k in probs.argmax(1)]
    confident = probs.max(1) >= model.threshold
    base = list(baseline.predict(test_vectors))

    timed = texts[:TIMED]

    def base_one(text: str) -> object:
        vector = _embed(embedder, [text])  # the same embedding path as ours: only heads differ
        return baseline.predict_proba(vector)

    ours_ms, base_ms = _timings(lambda t: model.predict([t]), base_one, timed)
    # In the engine the utterance is embedded once for every signal: intent adds only its heads.
    rows = {t: test_vectors[i : i + 1] for i, t in enumerate(timed)}
    heads_ms, embed_ms = _timings(
        lambda t: model.predict([t], vectors=rows[t]), lambda t: _embed(embedder, [t]), timed
    )
    load = os.getloadavg()[0]  # other work on the host shows up in the latencies
    manifest = model.manifest
    return {
        "train": len(train_rows),
        "test": len(test_rows),
        "intents": len(model.labels),
        "train_s": train_s,
        "load_avg_1m": load,
        "cv_accuracy": manifest["cross_validation"]["accuracy"],
        "chosen": {
            "C_embedding": manifest["heads"]["embedding"]["C"],
            "C_lexical": manifest["heads"]["lexical"]["C"],
            "mix": model.mix,
            "threshold": model.threshold,
        },
        "ours": {
            "accuracy": float(accuracy_score(gold, ours)),
            "macro_f1": float(f1_score(gold, ours, average="macro")),
            "p50_ms": statistics.median(ours_ms),
            "p95_ms": percentile(ours_ms, 95),
            "heads_p50_ms": statistics.median(heads_ms),
            "heads_p95_ms": percentile(heads_ms, 95),
            "embed_p50_ms": statistics.median(embed_ms),
            "unknown_rate": float(1 - confident.mean()),
            "accuracy_when_known": float(
                np.mean([o == g for o, g, c in zip(ours, gold, confident, strict=True) if c])
            ),
        },
        "baseline": {
            "accuracy": float(accuracy_score(gold, base)),
            "macro_f1": float(f1_score(gold, base, average="macro")),
            "p50_ms": statistics.median(base_ms),
            "p95_ms": percentile(base_ms, 95),
        },
    }


def figures(result: dict[str, Any]) -> list[Figure]:
    """Ours beside the baseline: accuracy, macro-F1 (in %) and single-utterance latency."""
    ours, base = result["ours"], result["baseline"]
    label = "MiniLM + default LR"
    chosen = result["chosen"]
    return [
        Figure(
            "test accuracy",
            100 * ours["accuracy"],
            "%",
            label,
            100 * base["accuracy"],
            ">= 93 %, aim > 94 %",
        ),
        Figure("test macro-F1", 100 * ours["macro_f1"], "%", label, 100 * base["macro_f1"], ""),
        Figure("p50 per utterance", ours["p50_ms"], "ms", label, base["p50_ms"], "<= 20 ms"),
        Figure(
            "p95 per utterance",
            ours["p95_ms"],
            "ms",
            label,
            base["p95_ms"],
            f"<= 20 ms (host load {result['load_avg_1m']:.1f}, 1 min)",
        ),
        Figure(
            "p95 in the engine (shared embedding)",
            ours["heads_p95_ms"],
            "ms",
            "embedding alone p50",
            ours["embed_p50_ms"],
            f"heads p50 {ours['heads_p50_ms']:.2f} ms",
        ),
        Figure(
            "accuracy when not unknown",
            100 * ours["accuracy_when_known"],
            "%",
            "all test",
            100 * ours["accuracy"],
            f"{ours['unknown_rate']:.1%} unknown below {chosen['threshold']:.2f}",
        ),
        Figure(
            "train-set CV accuracy",
            100 * result["cv_accuracy"],
            "%",
            "test accuracy",
            100 * ours["accuracy"],
            f"mix {chosen['mix']:.2f}, C {chosen['C_embedding']:g}/{chosen['C_lexical']:g}",
        ),
    ]
