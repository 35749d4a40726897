"""Intent classifier: training, predictions, model files, CSV checks and `copilot intents`."""

from __future__ import annotations

import csv
import hashlib
import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from copilot.intent import (
    CHAR,
    DATA_PATH,
    MODEL_DIR,
    UNKNOWN,
    WORD,
    IntentModel,
    load_default,
    read_training_csv,
    train,
)
from server.commands.intents import app
from tools.errors import ConfigurationError, InvalidInput
from tools.kb.embeddings import Embedder

SLICE = (
    "autopay_failed",
    "late_fee_waiver",
    "order_status",
    "return_item",
    "roaming_travel",
    "greeting",
    "reset_pin",
    "cancel_service",
)
SOURCE = {"file": "intents.csv", "source": "test slice", "licence": "Apache-2.0"}


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder()


@pytest.fixture(scope="module")
def split() -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """The first 16 demo rows of each sliced intent to train on, the rest held out."""
    rows = [r for r in read_training_csv(DATA_PATH) if r[1] in SLICE]
    train_rows, held = [], []
    for name in SLICE:
        mine = [r for r in rows if r[1] == name]
        train_rows += mine[:16]
        held += mine[16:]
    return train_rows, held


@pytest.fixture(scope="module")
def shipped(embedder: Embedder) -> IntentModel:
    return load_default(embedder)


@pytest.fixture(scope="module")
def small(
    embedder: Embedder, split: tuple[list[tuple[str, str]], list[tuple[str, str]]]
) -> IntentModel:
    return train(split[0], embedder, SOURCE)


def test_predicts_held_out_phrasings(
    small: IntentModel, split: tuple[list[tuple[str, str]], list[tuple[str, str]]]
) -> None:
    held = split[1]
    guesses = small.predict([t for t, _ in held], threshold=0.0)
    accuracy = np.mean([g.intent == i for g, (_, i) in zip(guesses, held, strict=True)])
    assert accuracy >= 0.85, accuracy
    fresh = {
        "the automatic payment on my card bounced": "autopay_failed",
        "pls take that late charge off my bill": "late_fee_waiver",
        "hasn't my parcel shipped yet?": "order_status",
        "I'm flying to Lisbon, will my phone work there": "roaming_travel",
    }
    for text, intent in fresh.items():
        assert small.predict([text])[0].intent == intent, text


def test_prediction_shape_and_unknown(small: IntentModel) -> None:
    p = small.predict(["I forgot my PIN"])[0]
    assert p.intent == "reset_pin" and 0 < p.confidence <= 1
    assert len(p.alternatives) == 3 and p.alternatives[0] == (p.intent, p.confidence)
    assert [a[1] for a in p.alternatives] == sorted((a[1] for a in p.alternatives), reverse=True)
    unsure = small.predict(["I forgot my PIN"], threshold=1.01)[0]
    assert unsure.intent == UNKNOWN and unsure.alternatives[0][0] == "reset_pin"
    assert small.predict(["  \x00 "])[0] == small.predict([""])[0]
    assert small.predict([""])[0].intent == UNKNOWN
    assert 0 <= small.threshold < 1
    cv = small.manifest["cross_validation"]
    assert cv["accuracy"] > 0.8 and cv["folds"] == 5


def test_save_load_round_trip(small: IntentModel, embedder: Embedder, tmp_path: Path) -> None:
    small.save(tmp_path)
    loaded = IntentModel.load(tmp_path, embedder)
    texts = ["where is my order", "cancel it all", "hello there"]
    assert np.allclose(small.probabilities(texts), loaded.probabilities(texts), atol=1e-5)
    assert loaded.labels == sorted(SLICE) and loaded.threshold == small.threshold
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["training_data"]["source"] == "test slice"
    assert manifest["training_data"]["licence"] == "Apache-2.0"
    assert manifest["embedding_model"].startswith("all-MiniLM-L6-v2")
    assert manifest["trained"] and manifest["cross_validation"]["accuracy"] > 0
    with np.load(tmp_path / "weights.npz", allow_pickle=False) as data:
        assert "embed_coef" in data.files


def test_lexical_head_matches_sklearn(small: IntentModel) -> None:
    """The one-text TF-IDF shortcut gives what TfidfVectorizer.transform gives."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = ["Where's my ORDER??", "caf\u00e9 bye-bye", "", "zzzz", "my autopay   failed twice"]
    w = small.weights
    for name, params in (("word", WORD), ("char", CHAR)):
        vocab = {t: i for i, t in enumerate(w[f"{name}_vocab"].tolist())}
        reference = TfidfVectorizer(vocabulary=vocab, **params)
        reference.idf_ = w[f"{name}_idf"]
        expected = reference.transform(texts) @ w[f"{name}_coef"].T
        head = small._word if name == "word" else small._char
        got = np.asarray([head.logits(t, w[f"{name}_coef"]) for t in texts])
        assert np.allclose(expected, got, atol=1e-9)


def _rehash(folder: Path) -> None:
    """Make the manifest vouch for whatever weights.npz now holds."""
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["weights"]["sha256"] = hashlib.sha256(
        (folder / "weights.npz").read_bytes()
    ).hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))


def test_corrupt_model_files_are_clear_errors(small: IntentModel, tmp_path: Path) -> None:
    good = tmp_path / "good"
    small.save(good)

    def broken(name: str) -> Path:
        folder = tmp_path / name
        shutil.copytree(good, folder)
        return folder

    flipped = broken("flipped")
    data = bytearray((flipped / "weights.npz").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (flipped / "weights.npz").write_bytes(bytes(data))
    garbage = broken("garbage")
    (garbage / "weights.npz").write_bytes(b"not a zip")
    _rehash(garbage)
    pickled = broken("pickled")
    np.savez(pickled / "weights.npz", embed_coef=np.array([{"a": 1}], dtype=object))
    _rehash(pickled)
    not_json = broken("not_json")
    (not_json / "manifest.json").write_text("{oops")
    cases = {
        flipped: "hash",
        garbage: "cannot read",
        pickled: "cannot read",
        not_json: "not valid JSON",
        tmp_path / "missing": "missing",
    }
    for folder, needle in cases.items():
        with pytest.raises(ConfigurationError, match=needle) as err:
            IntentModel.load(folder)
        assert str(folder) in err.value.message


def _csv(tmp_path: Path, content: str | bytes, name: str = "rows.csv") -> Path:
    path = tmp_path / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


GOOD = "hi there,greeting\nhello,greeting\nbye now,thanks_goodbye\nthanks bye,thanks_goodbye\n"


@pytest.mark.parametrize(
    ("content", "needle"),
    [
        ("text,label\nhi,greeting\n", "line 1: the header needs 'text' and 'intent'"),
        ("text,intent\nhi,greeting\n ,greeting\nbye,thanks\nok bye,thanks\n", "line 3: empty text"),
        ("text,intent\nhi,greeting\nhello,\nbye,thanks\nok bye,thanks\n", "line 3: missing intent"),
        ("text,intent\nhi,greeting\nhello,greeting\n", "at least 2 intents, found 1 (greeting)"),
        (
            "text,intent\nhi,greeting\nhello,greeting\nbye,thanks\n",
            "'thanks' has only 1 example (line 4)",
        ),
        ("text,intent\n" + "x" * 2001 + ",greeting\n", "line 2: text is 2,001 characters"),
        ("text,intent\nhi, there,greeting\n", "line 2: 3 fields"),
        ('text,intent\n"two\nlines",greeting\n,greeting\n', "line 4: empty text"),
        ("text,intent\nhi,unknown\n", "'unknown' is reserved"),
        ("", "has nothing"),
        ("text,intent\n", "no rows"),
    ],
)
def test_bad_csv_names_the_line(tmp_path: Path, content: str, needle: str) -> None:
    with pytest.raises(InvalidInput, match="file") as err:
        read_training_csv(_csv(tmp_path, content))
    assert needle in err.value.message and "rows.csv" in err.value.message


def test_csv_encoding_and_columns(tmp_path: Path) -> None:
    latin = ("text,intent\nhi,greeting\nhello,greeting\ncaf\xe9 bye,thanks\n").encode("latin-1")
    with pytest.raises(InvalidInput, match="line 4: not UTF-8"):
        read_training_csv(_csv(tmp_path, latin))
    with pytest.raises(InvalidInput, match="does not exist"):
        read_training_csv(tmp_path / "nope.csv")
    banking = _csv(tmp_path, "\ufeffText,Category\n" + GOOD, "banking.csv")
    assert read_training_csv(banking)[0] == ("hi there", "greeting")


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("my autopay didn't go through", "autopay_failed"),
        ("can you waive the late fee, my card expired", "late_fee_waiver"),
        ("I need a new membership card", "membership_card_replacement"),
        ("calls keep dropping at my house for weeks", "no_signal_dropped_calls"),
        ("I'm leaving for another carrier", "switch_to_competitor"),
        ("I bought a jacket in store and lost the receipt", "store_purchase_lookup"),
        ("let me talk to a real person", "speak_to_human"),
        ("thanks that's all", "thanks_goodbye"),
    ],
)
def test_shipped_model(shipped: IntentModel, text: str, intent: str) -> None:
    assert shipped.predict([text])[0].intent == intent


def test_shipped_model_manifest(shipped: IntentModel) -> None:
    data = shipped.manifest["training_data"]
    assert data["source"].startswith("written for this project") and data["licence"]
    assert len(shipped.labels) >= 20 and shipped.manifest["cross_validation"]["accuracy"] > 0.85
    assert sum((MODEL_DIR / f).stat().st_size for f in ("weights.npz", "manifest.json")) < 5e6


def test_cli_train_and_predict(tmp_path: Path, split: tuple[list[tuple[str, str]], ...]) -> None:
    runner = CliRunner()
    data = tmp_path / "slice.csv"
    with data.open("w", encoding="utf-8", newline="") as fh:
        csv.writer(fh).writerows([("text", "intent"), *split[0]])
    out = tmp_path / "model"
    trained = runner.invoke(app, ["train", str(data), "--out", str(out)])
    assert trained.exit_code == 0, trained.output
    assert "cross-validated accuracy" in trained.output and str(out) in trained.output
    assert (out / "weights.npz").is_file() and (out / "manifest.json").is_file()
    guess = runner.invoke(app, ["predict", "where's my package", "--model", str(out), "--json"])
    assert guess.exit_code == 0, guess.output
    assert json.loads(guess.output)["intent"] == "order_status"
    shown = runner.invoke(app, ["predict", "I want to pay my bill"])
    assert shown.exit_code == 0 and "make_payment" in shown.output
    bad = runner.invoke(app, ["train", str(_csv(tmp_path, "text,intent\n,x\n", "bad.csv"))])
    assert bad.exit_code == 2 and "line 2: empty text" in bad.output
    assert "Traceback" not in bad.output
    broken = runner.invoke(app, ["predict", "hi", "--model", str(tmp_path / "nowhere")])
    assert broken.exit_code == 2 and "missing" in broken.output
