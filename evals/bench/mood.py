"""Customer mood on real data: airline tweets (polarity) and USS MultiWOZ (per-turn satisfaction).

Nothing here trains or tunes on the test data. The airline set (CC BY-NC-SA) is evaluation
only: its test split is the rows with int(tweet_id) % 5 == 0, and the shipped head is trained
on none of its rows (copilot/models/mood/manifest.json says what it is trained on). For USS,
the only thing fitted is the monotone map from a per-turn mood score to the five satisfaction
levels, fitted on SGD.txt (dev) and applied unchanged to MWOZ.txt (test).

USS format (checked on the files): one turn per line, `role<TAB>text<TAB>action<TAB>sats`, sats
comma-separated with three to seven annotators, a blank line between dialogs, and a final
`USER<TAB>OVERALL` line per dialog that rates the whole dialog (skipped here). Only USER turns
carry ratings; a rating is the user's satisfaction at that turn, i.e. with the system's
preceding response, which the user's own words react to. We read the user's utterance (and,
through the tracker, the user's earlier ones); the published baselines instead read the dialog
history before the user turn. The 5-level gold label is the annotators' majority, ties to the
lower level, as in the published code (`get_main_score`); the correlations use their mean.

Two maps from mood to level are reported, both fitted on SGD only. The primary one gives each
level the share it has among SGD's labels. The other maximises UAR on SGD; because levels 1 and
5 are a handful of turns each, that map calls most turns level 1, which buys UAR at the cost of
accuracy and kappa, so its UAR says little. The published figures come from models trained
in-domain (10-fold cross-validation within MultiWOZ); ours reads MultiWOZ unseen.
"""

from __future__ import annotations

import csv
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from copilot.mood import MoodModel, MoodTracker, load_default
from copilot.mood_cues import normalize_text
from evals.bench.foundation import Figure, percentile

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"  # ../shared
AIRLINE = "twitter_airline_sentiment/Tweets.csv"
USS_DEV = "uss_user_satisfaction/SGD.txt"
USS_TEST = "uss_user_satisfaction/MWOZ.txt"
# Sun et al., SIGIR 2021, MultiWOZ: best UAR (BERT; 10-fold CV within MultiWOZ) and its kappa.
PUBLISHED_MWOZ = {"uar": 0.256, "kappa": 0.133}
LABELS = ("negative", "neutral", "positive")
LEVELS = 5
VADER_CUT = 0.05  # VADER's standard thresholds on compound
AIRLINE_TARGET = 0.80  # the shipped head never sees airline tweets (NC: evaluation only)
TREND_ALPHA = 0.5  # the tracker's default smoothing, applied to VADER too for a like comparison


def _need(path: Path) -> Path:
    if not path.is_file():
        raise FileNotFoundError(
            f"{path} not found: the mood benchmark needs the shared datasets "
            "(twitter_airline_sentiment, uss_user_satisfaction); pass their folder"
        )
    return path


def airline_test(root: Path) -> tuple[list[str], list[str]]:
    """Texts and gold labels of the airline test split (int(tweet_id) % 5 == 0)."""
    texts, gold = [], []
    with _need(root / AIRLINE).open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            if int(row["tweet_id"]) % 5 == 0:
                texts.append(row["text"])
                gold.append(row["airline_sentiment"])
    return texts, gold


@dataclass(frozen=True)
class UserTurn:
    dialog: int
    text: str
    ratings: tuple[int, ...]

    @property
    def mean(self) -> float:
        """The annotators' mean satisfaction, 1 to 5."""
        return statistics.fmean(self.ratings)

    @property
    def majority(self) -> int:
        """The most common rating, ties to the lower one, as the published baselines label."""
        counts = Counter(self.ratings)
        return min(counts, key=lambda r: (-counts[r], r))


def uss_user_turns(path: Path) -> list[UserTurn]:
    """Rated USER turns of a USS file, dialog by dialog, without the OVERALL lines."""
    turns: list[UserTurn] = []
    dialog = 0
    for line in _need(path).read_text(encoding="utf-8").splitlines():
        if not line.strip():
            dialog += 1
            continue
        parts = line.rstrip("\r").split("\t")
        if len(parts) < 4 or parts[0].strip().upper() != "USER" or parts[1] == "OVERALL":
            continue
        ratings = tuple(int(x) for x in parts[3].split(",") if x.strip())
        if ratings:
            turns.append(UserTurn(dialog, parts[1].strip(), ratings))
    return turns


def recall_per_label(gold: Sequence[str], pred: Sequence[str]) -> dict[str, float]:
    """Share of each gold label predicted as that label."""
    return {
        label: round(
            sum(g == p == label for g, p in zip(gold, pred, strict=True))
            / max(1, list(gold).count(label)),
            4,
        )
        for label in LABELS
    }


def accuracy_f1(gold: Sequence[str], pred: Sequence[str]) -> tuple[float, float]:
    """Accuracy and macro-F1 over the three polarity labels."""
    acc = sum(g == p for g, p in zip(gold, pred, strict=True)) / len(gold)
    f1s = []
    for label in LABELS:
        tp = sum(g == p == label for g, p in zip(gold, pred, strict=True))
        n_pred, n_gold = pred.count(label), gold.count(label)
        f1s.append(2 * tp / (n_pred + n_gold) if n_pred + n_gold else 0.0)
    return acc, statistics.fmean(f1s)


def uar(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Unweighted average recall over the levels present in gold."""
    recalls = []
    for level in sorted(set(gold)):
        idx = [i for i, g in enumerate(gold) if g == level]
        recalls.append(sum(pred[i] == level for i in idx) / len(idx))
    return statistics.fmean(recalls)


def pearson(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation (0 when either side is constant)."""
    a, b = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    if a.std() == 0 or b.std() == 0:
        return 0.0
    return float(np.corrcoef(a, b)[0, 1])


def _ranks(values: Sequence[float]) -> Any:
    a = np.asarray(values, dtype=np.float64)
    order = np.argsort(a, kind="mergesort")
    ranks = np.empty(len(a), dtype=np.float64)
    ranks[order] = np.arange(len(a), dtype=np.float64)
    # Ties share their average rank.
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    sums = np.bincount(inverse, weights=ranks)
    return sums[inverse] / counts[inverse]


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation, ties averaged."""
    return pearson(list(_ranks(x)), list(_ranks(y)))


def fit_levels(scores: Sequence[float], gold: Sequence[int], candidates: int = 400) -> list[float]:
    """Four cut points on score that maximise UAR on (scores, gold): a monotone map to 1..5.

    Exact over the candidate cuts (score quantiles) by dynamic programming: the UAR of a
    monotone map is a sum of per-level recalls, each depending only on that level's two cuts.
    """
    s = np.asarray(scores, dtype=np.float64)
    g = np.asarray(gold)
    cuts = np.unique(np.quantile(s, np.linspace(0.0, 1.0, candidates)))
    cuts = np.concatenate([[-np.inf], cuts, [np.inf]])
    # cum[k][j]: share of level k + 1 scoring <= cuts[j]; a level's recall is a difference.
    cum = [
        np.searchsorted(np.sort(s[g == k + 1]), cuts, side="right")
        / max(1, int((g == k + 1).sum()))
        for k in range(LEVELS)
    ]
    # best[j]: the largest recall sum of the levels so far when the last one ends at cuts[j].
    best = cum[0]
    back: list[list[int]] = []
    for k in range(1, LEVELS):
        gain = best - cum[k]
        arg, top, run_best = [], 0, -np.inf
        new = np.empty_like(best)
        for j in range(len(cuts)):
            if gain[j] > run_best:
                run_best, top = float(gain[j]), j
            arg.append(top)
            new[j] = cum[k][j] + run_best
        best = new
        back.append(arg)
    j = len(cuts) - 1  # the top level ends at +inf
    chosen = []
    for arg in reversed(back):
        j = arg[j]
        chosen.append(float(cuts[j]))
    return chosen[::-1]


def to_levels(scores: Sequence[float], cuts: Sequence[float]) -> list[int]:
    """Level 1..5 of each score: 1 + how many cuts it lies above."""
    return [1 + int(np.searchsorted(np.asarray(cuts), s, side="left")) for s in scores]


def _ewma_by_dialog(turns: Sequence[UserTurn], values: Sequence[float]) -> list[float]:
    out: list[float] = []
    prev_dialog, level = -1, 0.0
    for turn, value in zip(turns, values, strict=True):
        level = (
            value if turn.dialog != prev_dialog else TREND_ALPHA * value + (1 - TREND_ALPHA) * level
        )
        prev_dialog = turn.dialog
        out.append(level)
    return out


def _tracked(model: MoodModel, turns: Sequence[UserTurn]) -> list[float]:
    """Our per-turn mood: each dialog's user turns through a fresh MoodTracker."""
    readings = model.read_many([t.text for t in turns])
    out: list[float] = []
    tracker = MoodTracker(model, alpha=TREND_ALPHA)
    for i, (turn, reading) in enumerate(zip(turns, readings, strict=True)):
        if i and turn.dialog != turns[i - 1].dialog:
            tracker = MoodTracker(model, alpha=TREND_ALPHA)
        trend = tracker.update(str(i), turn.text, reading).trend
        out.append(trend[-1] if trend else 0.0)  # no mood yet: only details so far
    return out


def share_cuts(scores: Sequence[float], gold: Sequence[int]) -> list[float]:
    """Four cut points that give each level the share of scores it has in gold (on dev)."""
    counts = Counter(gold)
    shares = np.cumsum([counts.get(level, 0) / len(gold) for level in range(1, LEVELS)])
    return [float(c) for c in np.quantile(np.asarray(scores, dtype=np.float64), shares)]


def kappa(gold: Sequence[int], pred: Sequence[int]) -> float:
    """Cohen's kappa (unweighted, as the published table)."""
    g, p = np.asarray(gold), np.asarray(pred)
    levels = sorted(set(gold) | set(pred))
    observed = float((g == p).mean())
    chance = sum(float((g == k).mean() * (p == k).mean()) for k in levels)
    return (observed - chance) / (1.0 - chance) if chance < 1.0 else 0.0


def _mapped(
    cuts: list[float], dev: list[float], dev_gold: list[int], test: list[float], gold: list[int]
) -> dict[str, Any]:
    pred = to_levels(test, cuts)
    return {
        "cuts_fitted_on_dev": [round(c, 4) for c in cuts],
        "dev_uar": round(uar(dev_gold, to_levels(dev, cuts)), 4),
        "uar": round(uar(gold, pred), 4),
        "kappa": round(kappa(gold, pred), 4),
        "accuracy": round(sum(p == g for p, g in zip(pred, gold, strict=True)) / len(gold), 4),
        "recall_per_level": {
            level: round(
                sum(p == level for p, g in zip(pred, gold, strict=True) if g == level)
                / max(1, gold.count(level)),
                4,
            )
            for level in range(1, LEVELS + 1)
        },
        "predicted_levels": dict(sorted(Counter(pred).items())),
    }


def _uss_scores(
    name: str, dev: list[float], dev_turns: list[UserTurn], test: list[float], turns: list[UserTurn]
) -> dict[str, Any]:
    dev_gold = [t.majority for t in dev_turns]
    gold = [t.majority for t in turns]
    mean = [t.mean for t in turns]
    return {
        "scorer": name,
        # Primary: each level gets the share it has among SGD's labels (no level is favoured).
        "share_map": _mapped(share_cuts(dev, dev_gold), dev, dev_gold, test, gold),
        # The cuts that maximise UAR on SGD: UAR rewards catching the few level-1 and level-5
        # turns so much that this map calls most turns level 1 (see its accuracy and kappa).
        "uar_map": _mapped(fit_levels(dev, dev_gold), dev, dev_gold, test, gold),
        "pearson": round(pearson(test, mean), 4),
        "spearman": round(spearman(test, mean), 4),
    }


def _latency(model: MoodModel, texts: Sequence[str]) -> dict[str, Any]:
    """read() one utterance at a time: embedding included, then as the engine reads it, after
    the shared embedder's pass (the head given that vector, or a tail given the kept states)."""
    model.read("warm up")
    full, given = [], []
    for text in texts:
        start = time.perf_counter()
        model.read(text)
        full.append((time.perf_counter() - start) * 1000)
        vector = model.embedder.embed([normalize_text(text) or "."])[0]  # the engine's pass
        start = time.perf_counter()
        model.read(text, vector)
        given.append((time.perf_counter() - start) * 1000)
    return {
        "samples": len(full),
        "p50": round(percentile(full, 50), 2),
        "p95": round(percentile(full, 95), 2),
        "after_shared_pass": "the vector" if model.uses_shared_embedding else "kept token states",
        "given_embedding_p50": round(percentile(given, 50), 3),
        "given_embedding_p95": round(percentile(given, 95), 3),
        "torch_threads_single_read": 1,
    }


def run(
    datasets: Path = DATASETS, model: MoodModel | None = None, latency_samples: int = 300
) -> dict[str, Any]:
    """Airline test (ours vs VADER), read() latency, and USS MWOZ per-turn satisfaction."""
    texts, gold = airline_test(datasets)
    dev_turns = uss_user_turns(datasets / USS_DEV)
    test_turns = uss_user_turns(datasets / USS_TEST)
    model = model or load_default()
    vader = model.vader

    ours = [r.label for r in model.read_many(texts)]
    vader_pred = []
    for text in texts:
        c = vader.compound(text)
        vader_pred.append(
            "positive" if c >= VADER_CUT else "negative" if c <= -VADER_CUT else "neutral"
        )
    acc, f1 = accuracy_f1(gold, ours)
    v_acc, v_f1 = accuracy_f1(gold, vader_pred)
    balance = Counter(gold)
    latency = _latency(model, texts[:latency_samples])

    ours_dev, ours_test = _tracked(model, dev_turns), _tracked(model, test_turns)
    v_dev = _ewma_by_dialog(dev_turns, [vader.compound(t.text) for t in dev_turns])
    v_test = _ewma_by_dialog(test_turns, [vader.compound(t.text) for t in test_turns])
    test_gold = [t.majority for t in test_turns]
    return {
        "airline": {
            "split": "test: int(tweet_id) % 5 == 0",
            "rows": len(gold),
            "class_balance": {k: balance[k] for k in LABELS},
            "majority_accuracy": round(max(balance.values()) / len(gold), 4),
            "ours": {
                "accuracy": round(acc, 4),
                "macro_f1": round(f1, 4),
                "recall": recall_per_label(gold, ours),
            },
            "vader": {"accuracy": round(v_acc, 4), "macro_f1": round(v_f1, 4)},
        },
        "latency_ms": latency,
        "uss": {
            "dev": USS_DEV,
            "test": USS_TEST,
            "dev_turns": len(dev_turns),
            "test_turns": len(test_turns),
            "test_levels": dict(sorted(Counter(test_gold).items())),
            "label": "majority of annotators, ties to the lower level (published code)",
            "published": PUBLISHED_MWOZ,
            "constant_uar": round(1 / len(set(test_gold)), 4),
            "ours": _uss_scores("MoodTracker trend", ours_dev, dev_turns, ours_test, test_turns),
            "vader": _uss_scores("VADER compound, same EWMA", v_dev, dev_turns, v_test, test_turns),
        },
        "model": model.head.manifest.get("training_data", {}),
        "model_weak_labels": model.head.manifest.get("weak_labelled_data"),
    }


def figures(result: dict[str, Any]) -> list[Figure]:
    """The benchmark's figures, each beside its baseline, for `copilot bench mood`."""
    air, uss, lat = result["airline"], result["uss"], result["latency_ms"]
    ours, vader, published = uss["ours"], uss["vader"], uss["published"]
    pct = 100.0
    return [
        Figure(
            "airline test accuracy",
            air["ours"]["accuracy"] * pct,
            "%",
            "VADER",
            air["vader"]["accuracy"] * pct,
            f">= {AIRLINE_TARGET * pct:.0f} %",
        ),
        Figure(
            "airline test accuracy",
            air["ours"]["accuracy"] * pct,
            "%",
            "majority class",
            air["majority_accuracy"] * pct,
            "above majority",
        ),
        Figure(
            "airline test macro-F1",
            air["ours"]["macro_f1"] * pct,
            "%",
            "VADER",
            air["vader"]["macro_f1"] * pct,
            "above VADER",
        ),
        Figure(
            "MWOZ UAR, 5 levels (SGD label-share map)",
            ours["share_map"]["uar"] * pct,
            "%",
            "published best (BERT)",
            published["uar"] * pct,
            f"near {published['uar'] * pct:.1f} % (constant {uss['constant_uar'] * pct:.0f} %)",
        ),
        Figure(
            "MWOZ UAR, 5 levels (SGD label-share map)",
            ours["share_map"]["uar"] * pct,
            "%",
            "VADER",
            vader["share_map"]["uar"] * pct,
            "above VADER",
        ),
        Figure(
            "MWOZ kappa (SGD label-share map)",
            ours["share_map"]["kappa"],
            "",
            "published BERT",
            published["kappa"],
            "near published",
        ),
        Figure(
            "MWOZ UAR (SGD UAR-max map, degenerate)",
            ours["uar_map"]["uar"] * pct,
            "%",
            "VADER",
            vader["uar_map"]["uar"] * pct,
            f"accuracy {ours['uar_map']['accuracy'] * pct:.0f} %: see text",
        ),
        Figure(
            "MWOZ Spearman vs annotators' mean",
            ours["spearman"],
            "",
            "VADER",
            vader["spearman"],
            "above VADER",
        ),
        Figure(
            "MWOZ Pearson vs annotators' mean",
            ours["pearson"],
            "",
            "VADER",
            vader["pearson"],
            "above VADER",
        ),
        Figure("read() p50, embedding included", lat["p50"], "ms", "budget", 10.0, "<= 10 ms"),
        Figure("read() p95, embedding included", lat["p95"], "ms", "budget", 10.0, "<= 10 ms"),
        Figure(
            f"read() p50 after the shared pass ({lat['after_shared_pass']} given)",
            lat["given_embedding_p50"],
            "ms",
            "budget",
            10.0,
            "<= 10 ms",
        ),
    ]
