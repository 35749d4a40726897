"""Customer mood: cues with evidence, polarity, the conversation trend, alert and model files."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from copilot.mood import (
    DATA_PATH,
    MODEL_DIR,
    Augment,
    EncoderTune,
    MoodHead,
    MoodModel,
    MoodModelError,
    MoodTracker,
    Recipe,
    load_default,
    load_recipe,
    main,
    train,
)
from copilot.mood_cues import detect_cues
from copilot.runtime import optional_models
from evals.bench import mood as bench
from server.commands.mood import app as mood_app
from tools.errors import ConfigurationError
from tools.kb.embeddings import Embedder, EncoderTail


@pytest.fixture(scope="module")
def model(embedder: Embedder) -> MoodModel:
    return load_default(embedder)


def kinds(text: str) -> dict[str, str]:
    return {c.kind: c.evidence for c in detect_cues(text)}


@pytest.mark.parametrize(
    ("text", "kind", "evidence"),
    [
        ("I HAVE TO REPEAT MYSELF AGAIN", "all_caps", "I HAVE TO REPEAT MYSELF AGAIN"),
        ("why is my bill SO HIGH this month", "all_caps", "SO HIGH"),
        ("Honestly, I have to repeat myself every time I call", "repeat_myself", "have to repeat"),
        ("This is the third time I'm asking about the refund", "repeat_myself", "third time"),
        ("My data stopped working again.", "repeat_myself", "again"),
        ("Let me speak to your supervisor.", "supervisor", "supervisor"),
        ("Can I talk to a manager please", "supervisor", "manager"),
        ("I'm cancelling my account today.", "cancel", "cancelling my account"),
        ("Fine, I'm going to cancel.", "cancel", "going to cancel"),
        ("I'm switching to Zephyr Mobile next week.", "competitor", "Zephyr Mobile"),
        ("Zephyr has been calling me with a better deal", "competitor", "better deal"),
        ("Might just move to another carrier.", "competitor", "to another"),
        ("I want to file a complaint about the agent.", "complaint", "file a complaint"),
        ("That late fee is unacceptable.", "complaint", "unacceptable"),
        ("I'm absolutely furious about this", "anger", "furious"),
        ("This is so frustrating, nothing works", "frustration", "frustrating"),
        ("I've been on hold for an hour", "frustration", "on hold"),
        ("I don't understand this bill at all", "confusion", "I don't understand"),
        ("I'm confused by the new plan", "confusion", "confused"),
        ("What does this charge mean?", "confusion", "What does this charge mean"),
        ("I need it working right now", "urgency", "right now"),
        ("It's urgent, my mum relies on that line", "urgency", "urgent"),
        ("please fix it asap", "urgency", "asap"),
        ("I need a technician immediately", "urgency", "immediately"),
    ],
)
def test_cue_detected_with_evidence(text: str, kind: str, evidence: str) -> None:
    found = kinds(text)
    assert kind in found, found
    assert evidence.lower() in found[kind].lower()
    assert found[kind].lower() in text.lower()  # evidence is a quote, not a paraphrase


@pytest.mark.parametrize(
    "text",
    [
        "My SIM and PIN don't work with the ID check",
        "Can I get the PUK for my IMEI? ETA on the new SIM?",
        "It's the iPhone 15, not the SE",
    ],
)
def test_acronyms_are_not_shouting(text: str) -> None:
    assert "all_caps" not in kinds(text)


@pytest.mark.parametrize(
    ("text", "not_kind"),
    [
        ("Can you say that again?", "repeat_myself"),
        ("Thanks again, have a lovely day!", "repeat_myself"),
        ("My account manager told me to call you", "supervisor"),
        ("I'd like to cancel my order, I bought it elsewhere", "cancel"),
        ("I'm out of data for the month", "cancel"),
        ("Glad I switched to Brightwave", "competitor"),
        ("Oh, my bill says Zephyr Mobile at the top. Sorry, wrong company!", "competitor"),
        ("Your team handled my complaint really well", "complaint"),
        ("Thanks, have a great day", "anger"),
    ],
)
def test_ordinary_requests_raise_no_cue(text: str, not_kind: str) -> None:
    assert not_kind not in kinds(text)


def test_polarity_sign_on_clear_messages(model: MoodModel) -> None:
    negative = [
        "My broadband has been dead for five days and every agent promises a fix that never comes.",
        "You billed me for a phone I sent back a month ago. Sort it out.",
        "Dreadful coverage, the call cut out three times during my meeting.",
        "I want to switch to Zephyr Mobile, this is the last time.",  # calm, but a threat
    ]
    positive = [
        "Brilliant, the engineer sorted it in ten minutes. Thank you!",
        "Really happy with the new plan, thanks for suggesting it.",
    ]
    neutral = [
        "What time does the store on Elm Road open on Saturday?",
        "My current plan is enough, so I'll skip the upgrade.",  # a declined offer
    ]
    for text in negative:
        reading = model.read(text)
        assert reading.polarity < -0.3 and reading.label == "negative", (text, reading)
    for text in positive:
        reading = model.read(text)
        assert reading.polarity > 0.3 and reading.label == "positive", (text, reading)
    for text in neutral:
        assert model.read(text).label == "neutral"
    empty = model.read("@BrightwaveMobile https://example.com/x")
    assert (empty.polarity, empty.label, empty.cues) == (0.0, "neutral", [])


def test_risk_grows_with_cues(model: MoodModel) -> None:
    calm = model.read("Hi, I have a question about my bill.")
    hot = model.read("This is ridiculous, get me a supervisor or I'm switching to Zephyr Mobile.")
    assert calm.escalation_risk < 0.2
    assert hot.escalation_risk > 0.7
    assert {"supervisor", "competitor", "complaint"} <= {c.kind for c in hot.cues}


ESCALATING = [
    "Hi, I have a question about my bill.",
    "It says I was charged twice for October.",
    "I HAVE TO REPEAT MYSELF AGAIN, I already told the last agent all of this",
    "This is unacceptable. I want a supervisor right now or I'm switching to Zephyr Mobile.",
    "Still waiting. Nobody has fixed anything.",
    "Okay, if the refund is on its way that's fine.",
    "Thank you so much, I really appreciate you sorting this out.",
    "Thanks again, have a lovely day!",
]


def test_trend_worsens_then_recovers_with_one_alert(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    assert tracker.state is None
    states = [tracker.update(f"evt-{i}", text) for i, text in enumerate(ESCALATING)]
    trend = states[-1].trend
    assert len(trend) == len(ESCALATING)
    assert all(-1.0 <= v <= 1.0 for v in trend)
    assert trend[3] < trend[1] < trend[0]  # worse and worse up to the supervisor demand

    shouted = states[2]
    assert shouted.direction == "worsening"
    assert shouted.reason.startswith("dropped after:")
    assert '"I HAVE TO REPEAT MYSELF AGAIN' in shouted.reason
    assert shouted.moved_by == "evt-2"

    assert not any(s.alert for s in states[:2])
    raised = [i for i, s in enumerate(states) if s.alert_raised]
    assert len(raised) == 1 and raised[0] in (2, 3), [(s.risk, s.alert) for s in states]
    assert states[3].alert and states[3].alert_reason is not None
    assert "supervisor" in states[3].alert_reason and "competitor" in states[3].alert_reason
    assert states[4].alert  # hysteresis: a still-angry follow-up keeps it on, no second raise

    thanks = states[6]
    assert thanks.direction == "improving"
    assert "rose after:" in thanks.reason and "Thank you so much" in thanks.reason
    assert not states[-1].alert and states[-1].alert_reason is None
    assert tracker.state == states[-1]


def test_alert_does_not_flap(model: MoodModel) -> None:
    tracker = MoodTracker(model)
    lines = [
        "I want to speak to a supervisor, this is ridiculous.",
        "Okay.",
        "I'm cancelling my account if this isn't fixed.",
        "Fine, go on.",
        "Still nothing? Unacceptable.",
    ]
    states = [tracker.update(str(i), text) for i, text in enumerate(lines)]
    assert sum(s.alert_raised for s in states) == 1
    assert all(s.alert for s in states)


def test_tracker_rejects_bad_thresholds(model: MoodModel) -> None:
    with pytest.raises(ValueError, match="alert_off"):
        MoodTracker(model, alert_on=0.3, alert_off=0.5)


def test_save_load_round_trip(model: MoodModel, tmp_path: Path) -> None:
    model.head.save(tmp_path)
    again = MoodHead.load(tmp_path)
    features = np.random.default_rng(0).normal(size=(4, model.head.coef.shape[1]))
    assert np.allclose(model.head.probabilities(features), again.probabilities(features))
    assert again.manifest["training_data"] == model.head.manifest["training_data"]
    text = "You charged me twice and nobody will fix it."
    assert MoodModel(again, model.embedder).read(text) == model.read(text)


def test_shipped_model_reads_with_its_own_encoder(model: MoodModel, embedder: Embedder) -> None:
    manifest = model.head.manifest
    encoder = MODEL_DIR / manifest["encoder"]["file"]
    assert manifest["encoder"]["sha256"] == hashlib.sha256(encoder.read_bytes()).hexdigest()
    assert not model.uses_shared_embedding
    text = "Flight delayed four hours and the app still says on time."
    assert model.tail is not None
    ours, shared = model.tail.embed([text])[0], embedder.embed([text])[0]
    assert float(np.dot(ours, shared)) < 0.99  # the top layers were fine-tuned
    # A caller's shared-embedding vector is not what the head reads, so it is not used.
    assert model.read(text, shared) == model.read(text)


def test_shipped_model_records_its_training_data() -> None:
    manifest = json.loads((MODEL_DIR / "manifest.json").read_text())
    data = manifest["training_data"]
    assert "written for this project" in data["source"]
    assert data["licence"].startswith("Apache-2.0")
    # The shipped weights were trained on exactly the CSV in the repository.
    assert data["sha256"] == hashlib.sha256(DATA_PATH.read_bytes()).hexdigest()
    # ... and on the shipped recipe, which adds variants of those rows and no outside data.
    recipe = load_recipe()
    assert (
        manifest["recipe"]["sha256"]
        == hashlib.sha256(recipe.model_dump_json().encode()).hexdigest()
    )
    assert manifest["recipe"]["augmented_rows"] == data["rows"]
    assert "twitter_airline" not in json.dumps(manifest)


def _tiny_data(tmp_path: Path, per_class: int) -> Path:
    data = tmp_path / "tiny.csv"
    rows = ["text,label"]
    for i in range(per_class):
        rows += [
            f"my internet has been down for {i + 2} days and nobody helps,negative",
            f"what time does store number {i} open,neutral",
            f"thank you so much for the help number {i},positive",
        ]
    data.write_text("\n".join(rows) + "\n")
    return data


def test_recipe_adds_one_seeded_variant_per_row(embedder: Embedder, tmp_path: Path) -> None:
    data = _tiny_data(tmp_path, 6)
    recipe = Recipe(
        about="unit test",
        augment=Augment(seed=0, why="w", prefixes=["flight 12"], suffixes=["#travel"], lowercase=0),
    )
    head = train(data, embedder, recipe=recipe)
    assert head.manifest["training_data"]["rows"] == 18
    assert (head.manifest["rows_total"], head.manifest["recipe"]["augmented_rows"]) == (36, 18)
    assert np.array_equal(head.coef, train(data, embedder, recipe=recipe).coef)  # seeded
    assert MoodModel(head, embedder).read("flight 12 thank you so much").label == "positive"


def test_recipe_fine_tunes_the_encoder_and_it_round_trips(
    embedder: Embedder, tmp_path: Path
) -> None:
    data = _tiny_data(tmp_path, 5)
    tune = EncoderTune(seed=0, why="w", layers=2, rounds=1, batch=8, learning_rate=1e-4)
    head = train(data, embedder, recipe=Recipe(about="unit test", encoder=tune))
    assert head.encoder is not None
    assert {name.split(".encoder.layer.")[1].split(".")[0] for name in head.encoder} == {"4", "5"}
    assert "encoder_fine_tuned" in head.manifest["features"]
    head.save(tmp_path / "m")
    manifest = json.loads((tmp_path / "m" / "manifest.json").read_text())
    assert manifest["encoder"]["parameters"] == sum(v.size for v in head.encoder.values())
    again = MoodHead.load(tmp_path / "m")
    text = "my internet has been down and nobody helps"
    assert MoodModel(again, embedder).read(text) == MoodModel(head, embedder).read(text)
    # The encoder file is checked like the head's weights.
    (tmp_path / "m" / "encoder.safetensors").write_bytes(b"garbage")
    with pytest.raises(MoodModelError, match="does not match the hash"):
        MoodHead.load(tmp_path / "m")
    (tmp_path / "m" / "encoder.safetensors").unlink()
    with pytest.raises(MoodModelError, match=r"encoder\.safetensors is missing"):
        MoodHead.load(tmp_path / "m")
    # Weights that do not fit the embedding model are refused, not silently ignored.
    name = "0.auto_model.encoder.layer.5.output.dense.weight"
    with pytest.raises(ValueError, match=re.escape(f"no parameter {name}")):
        EncoderTail(embedder, {name: np.zeros(3)})
    with pytest.raises(ValueError, match="only encoder layers"):
        EncoderTail(embedder, {"0.auto_model.embeddings.word_embeddings.weight": np.zeros(3)})


def _copy_model(tmp_path: Path) -> Path:
    folder = tmp_path / "mood"
    shutil.copytree(MODEL_DIR, folder)
    return folder


def test_corrupt_weights_give_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "head.npz").write_bytes(b"not a zip file at all")
    with pytest.raises(MoodModelError, match="does not match the hash"):
        MoodHead.load(folder)
    # Even with a matching hash, unreadable weights are named as such.
    manifest = json.loads((folder / "manifest.json").read_text())
    manifest["weights"]["sha256"] = hashlib.sha256(b"not a zip file at all").hexdigest()
    (folder / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(MoodModelError, match="cannot read mood model weights"):
        MoodHead.load(folder)


def test_bad_or_missing_manifest_gives_a_clear_error(tmp_path: Path) -> None:
    folder = _copy_model(tmp_path)
    (folder / "manifest.json").write_text("{ truncated")
    with pytest.raises(MoodModelError, match="not valid JSON"):
        MoodHead.load(folder)
    (folder / "manifest.json").unlink()
    with pytest.raises(MoodModelError, match="missing"):
        load_default(folder=folder)


def test_uss_parser_and_labels(tmp_path: Path) -> None:
    path = tmp_path / "uss.txt"
    path.write_text(
        "USER\tI need a taxi.\tInform\t3,3,2\n"
        "SYSTEM\tWhere to?\tRequest\t\n"
        "USER\tNo, I said the station!\t\t2,2,3,3\n"
        "USER\tOVERALL\t\t2,3,3\n"
        "\n"
        "USER\tThanks, perfect.\tthank\t4,5,4\n"
        "USER\tOVERALL\t\t4,4,4\n"
    )
    turns = bench.uss_user_turns(path)
    assert [t.text for t in turns][1:] == ["No, I said the station!", "Thanks, perfect."]
    assert [t.dialog for t in turns] == [0, 0, 1]
    assert [t.majority for t in turns] == [3, 2, 4]  # a 2-2 tie goes to the lower level
    assert turns[1].mean == 2.5


def test_level_fit_is_monotone_and_beats_constant() -> None:
    rng = np.random.default_rng(1)
    gold = list(rng.choice([1, 2, 3, 4, 5], size=400, p=[0.05, 0.15, 0.6, 0.15, 0.05]))
    scores = [g * 0.5 + rng.normal() * 0.5 for g in gold]
    cuts = bench.fit_levels(scores, gold)
    assert cuts == sorted(cuts) and len(cuts) == 4
    assert bench.uar(gold, bench.to_levels(scores, cuts)) > 0.4
    assert bench.uar(gold, [3] * len(gold)) == pytest.approx(0.2)
    assert bench.spearman([1, 2, 3, 4], [10, 20, 30, 35]) == pytest.approx(1.0)


def test_bench_without_datasets_says_what_is_missing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="twitter_airline_sentiment"):
        bench.run(tmp_path)


def test_a_bad_recipe_is_named_in_one_line_and_nothing_is_trained(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    recipe = json.loads((MODEL_DIR / "recipe.json").read_text())
    recipe["encoder"]["rounds"] = 0
    bad = tmp_path / "recipe.json"
    bad.write_text(json.dumps(recipe))
    with pytest.raises(MoodModelError, match=r"recipe\.json: encoder\.rounds: Input should be"):
        load_recipe(bad)
    before = {p.name: p.read_bytes() for p in MODEL_DIR.iterdir()}
    assert main(bad) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "encoder.rounds" in err and "Traceback" not in err
    bad.write_text("{not json")
    assert main(bad) == 2
    assert "Invalid JSON" in capsys.readouterr().err
    assert main(tmp_path / "absent.json") == 2
    assert "cannot read the recipe" in capsys.readouterr().err
    assert {p.name: p.read_bytes() for p in MODEL_DIR.iterdir()} == before


def test_cli_trains_a_tenant_model_that_reads_and_that_the_engine_loads(
    embedder: Embedder, tmp_path: Path
) -> None:
    runner = CliRunner()
    data, out = _tiny_data(tmp_path, 5), tmp_path / "own"
    given = ["--source", "test rows", "--licence", "CC0-1.0"]
    trained = runner.invoke(mood_app, ["train", str(data), "--out", str(out), *given])
    assert trained.exit_code == 0, trained.output
    assert "15 rows (negative 5, neutral 5, positive 5)" in trained.output
    assert "cross-validated accuracy" in trained.output and str(out) in trained.output
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["training_data"]["source"] == "test rows"
    assert (manifest["training_data"]["licence"], manifest["training_data"]["file"]) == (
        "CC0-1.0",
        "tiny.csv",
    )
    assert "encoder_fine_tuned" in manifest["features"]  # the shipped recipe, tuning included
    text = "thank you so much for the help"
    read = runner.invoke(mood_app, ["read", text, "--model", str(out), "--json"])
    assert read.exit_code == 0, read.output
    assert json.loads(read.output)["label"] == "positive"
    # COPILOT_MOOD_MODEL names it: the engine's trackers read with it, not the shipped model.
    _, follower = optional_models(embedder, mood_model=out)
    assert follower is not None
    tracker = follower()
    assert isinstance(tracker, MoodTracker)
    assert tracker.model.head.manifest["training_data"]["source"] == "test rows"
    with pytest.raises(ConfigurationError, match=r"COPILOT_MOOD_MODEL: mood model file .* missing"):
        optional_models(embedder, mood_model=tmp_path / "nowhere")


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        ("text,label\nhello,neutral\nugh,angry\n", "line 3: the mood must be one of negative"),
        ("text,mood\n,neutral\n", "line 2: empty text"),
        ("words,feeling\nhi,neutral\n", "the header needs 'text' and 'label' columns"),
        ("text,label\n" + "fine,neutral\n" * 5, "each mood needs at least 5 rows (negative has 0"),
    ],
)
def test_cli_train_names_what_is_wrong_with_a_file(
    tmp_path: Path, content: str, problem: str
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    out = tmp_path / "never"
    result = CliRunner().invoke(mood_app, ["train", str(bad), "--out", str(out)])
    assert result.exit_code == 2 and problem in result.output, result.output
    assert "Traceback" not in result.output and not out.exists()  # nothing half-written


def test_cli_read_names_a_missing_model(tmp_path: Path) -> None:
    result = CliRunner().invoke(mood_app, ["read", "hi", "--model", str(tmp_path / "nowhere")])
    assert result.exit_code == 2 and "missing" in result.output
    assert "Traceback" not in result.output
