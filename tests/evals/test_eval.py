"""`copilot eval`: suites through the real engine, reports on disk, the gate and compare."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot import card_models as cm
from copilot import card_parts as parts
from copilot import scenario as scenarios
from copilot.panel import Card, PanelUpdate
from copilot.pii import redact
from evals import runner
from evals.report import Metric, Run, Suite, load
from evals.suites.scenarios import FOLDER, Tally, score
from evals.thresholds import breaches, load_thresholds
from server.cli import app
from tests.fake_judge import fake_judge
from tools.errors import CopilotError

PICK = ["past-due-fixed-then-offer", "angry-competitor", "pii-in-chat"]


@pytest.fixture
def env(data_dir: Path, demo_kb: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    values = {"COPILOT_DATA_DIR": str(data_dir), "COPILOT_KB_DIR": str(demo_kb)}
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    return values


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    out = tmp_path / "scenarios"
    out.mkdir()
    for name in PICK:
        shutil.copy(FOLDER / f"{name}.yaml", out)
    (out / "broken.yaml").write_text("name: broken\nturns:\n  - speaker: robot\n    text: hi\n")
    return out


def test_run_writes_reports_and_a_bad_file_fails_only_itself(
    env: dict[str, str], folder: Path, tmp_path: Path
) -> None:
    out = tmp_path / "run"
    got = CliRunner().invoke(
        app,
        [
            "eval",
            "run",
            "scenarios",
            "--trials",
            "2",
            "--out",
            str(out),
            "--scenarios",
            str(folder),
        ],
        env=env,
    )
    assert got.exit_code == 0, got.output
    run = load(out)
    suite = run.suites[0]
    cases = {c.name: c for c in suite.cases}
    assert set(cases) == {*PICK, "broken"}
    for n in PICK:
        assert cases[n].passed and len(cases[n].trials) == 2, (n, cases[n].trials)
    assert not cases["broken"].passed and "line 3: turns.0.speaker" in cases["broken"].failures[0]
    metric = {m.key: m.value for m in suite.metrics}
    assert metric["pass_rate"] == pytest.approx(3 / 4)
    assert metric["offers_to_upset_customers"] == 0 and metric["pii_leaks"] == 0
    assert metric["offer_precision"] == metric["offer_recall"] == 1.0
    assert metric["intent_accuracy"] == 1.0 and metric["tool_call_accuracy"] == 1.0
    assert metric["time_to_card_p95"] is not None and suite.latencies_ms
    html = (out / "report.html").read_text()
    assert "broken" in html and "<svg" in html and "http://" not in html
    assert "FAIL scenarios/broken" in got.output


def test_gate_fails_when_a_threshold_is_raised_above_the_figure(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(FOLDER / "past-due-fixed-then-offer.yaml", folder)
    out = tmp_path / "run"
    cli = CliRunner()
    made = cli.invoke(
        app, ["eval", "run", "scenarios", "--out", str(out), "--scenarios", str(folder)], env=env
    )
    assert made.exit_code == 0, made.output
    passed = cli.invoke(app, ["eval", "gate", str(out)])
    assert passed.exit_code == 0 and "PASS" in passed.output, passed.output
    p95 = load(out).metric("scenarios.time_to_card_p95")
    assert p95 is not None and p95.value is not None
    tight = tmp_path / "tight.yaml"
    tight.write_text(
        f"scenarios.pass_rate: {{min: 1.0}}\nscenarios.time_to_card_p95: {{max: {p95.value / 2}}}\n"
    )
    failed = cli.invoke(app, ["eval", "gate", str(out), "--thresholds", str(tight)])
    assert failed.exit_code == 1 and "scenarios.time_to_card_p95" in failed.output
    raised = tmp_path / "raised.yaml"
    raised.write_text("scenarios.next_action_accuracy: {min: 1.01}\n")
    failed = cli.invoke(app, ["eval", "gate", str(out), "--thresholds", str(raised)])
    assert failed.exit_code == 1 and "next_action_accuracy" in failed.output
    strict = cli.invoke(app, ["eval", "gate", str(out), "--strict"])
    assert strict.exit_code == 1 and "no suite 'intent' in this run" in strict.output
    same = cli.invoke(app, ["eval", "compare", str(out), str(out)])
    assert same.exit_code == 0 and "no regressions" in same.output


def test_benchmark_suites_skip_without_their_data(tmp_path: Path) -> None:
    run = runner.run(["benchmarks"], datasets=tmp_path)
    assert [s.name for s in run.suites] == ["intent", "mood", "summary", "retrieval", "nba"]
    assert all(s.status == "skipped" and "not available" in s.message for s in run.suites)


def test_bad_requests_are_one_line_errors(tmp_path: Path) -> None:
    cli = CliRunner()
    unknown = cli.invoke(app, ["eval", "run", "scenaros"])
    assert unknown.exit_code == 2 and "unknown suite 'scenaros'" in unknown.output
    missing = cli.invoke(app, ["eval", "gate", str(tmp_path)])
    assert missing.exit_code == 2 and "does not exist" in missing.output
    (tmp_path / "report.json").write_text('{"run_id": 3}')
    bad = cli.invoke(app, ["eval", "gate", str(tmp_path)])
    assert bad.exit_code == 2 and "report.json" in bad.output and "Traceback" not in bad.output


def test_the_llm_engine_passes_the_scenarios_with_a_model_like_fake(
    env: dict[str, str], folder: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("COPILOT_LLM_BASE_URL", raising=False)
    run = runner.run(["scenarios"], engine="llm", scenarios=folder)
    suite = run.suites[0]
    cases = {c.name: c for c in suite.cases}
    assert all(cases[n].passed for n in PICK), [cases[n].trials for n in PICK]
    metric = {m.key: m.value for m in suite.metrics}
    assert metric["llm_turns"] and metric["llm_turns"] >= 10
    assert metric["llm_fallback_rate"] == 0
    assert metric["pii_in_model_requests"] == 0 and metric["pii_leaks"] == 0
    assert metric["offers_to_upset_customers"] == 0
    assert metric["llm_tokens_per_conversation"] and metric["llm_tokens_per_conversation"] > 1000
    assert "model-like" in run.environment["llm"]


def _update(version: int, *cards: Card) -> PanelUpdate:
    return PanelUpdate(
        session_id="s", version=version, event_id=f"e{version}", cards=list(cards), latency_ms=1.0
    )


def test_leaks_and_offers_to_upset_customers_are_counted() -> None:
    scenario = scenarios.Scenario.model_validate(
        {"name": "x", "turns": [{"text": "hi"}], "expect": {"offer": "none"}}
    )
    upset = parts.MoodReading(polarity=-0.8, label="negative", cues=[], escalation_risk=0.9)
    mood = cm.MoodData(
        trend=[-0.8],
        current=upset,
        direction="worsening",
        reason="angry",
        alert=True,
        alert_reason="anger",
        alert_raised=True,
        risk=0.9,
        moved_by=None,
    )
    shown = parts.OfferShown(
        offer_id="unlimited-upgrade",
        title="Unlimited",
        kind="upsell",
        score=1.0,
        why="over its data in 3 of 4 months",
        plan_code="UNL",
        sku=None,
        line_id=None,
        sections=["billing"],
        evidence=[],
    )
    summary = cm.SummaryData(
        reason_for_contact=None,
        customer_context=[],
        identified=None,
        verified=[],
        verification="not verified",
        actions_taken=[],
        resolution_state="open",
        steps=None,
        open_items=[],
        customer_words=[],
        channels=["chat"],
        provided=[],
        handoff=None,
        prose="card 4111 1111 1111 1111",
        extract="",
    )
    angry = Card(type="mood", id="mood", data=mood.model_dump(mode="json"))
    offer = Card(
        type="offer",
        id="offer",
        data=cm.OfferData(offer=shown, held_back=None).model_dump(mode="json"),
    )
    leak = Card(type="summary", id="summary", data=summary.model_dump(mode="json"))
    replay = scenarios.Replay(updates=[_update(1, angry, offer), _update(2, leak)])
    replay.cards = {c.id: c for u in replay.updates for c in u.cards}
    tally = Tally()
    score(tally, scenario, replay)
    assert tally.offers_to_upset == 1 and tally.offer_fp == 1
    assert tally.pii_leaks and "card" in tally.pii_leaks[0]
    assert datetime.now(UTC)  # the tally is independent of the clock
    assert json.loads(replay.updates[0].model_dump_json())["cards"][1]["id"] == "offer"


def test_a_judge_adds_faithfulness_relevancy_and_rubrics(
    env: dict[str, str], tmp_path: Path
) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    shutil.copy(FOLDER / "past-due-fixed-then-offer.yaml", folder)
    cli = CliRunner()
    with fake_judge() as (url, requests):
        got = cli.invoke(
            app,
            ["eval", "run", "scenarios", "--out", str(tmp_path / "a"), "--scenarios", str(folder)],
            env=env | {"COPILOT_JUDGE_URL": url, "COPILOT_JUDGE_MODEL": "fake-judge"},
        )
    assert got.exit_code == 0, got.output
    run = load(tmp_path / "a")
    judged = {m.key: m for m in run.suites[0].metrics if m.key.startswith("judge_")}
    assert set(judged) == {
        "judge_faithfulness",
        "judge_answer_relevancy",
        "judge_nba_rubric",
        "judge_offer_rubric",
    }
    for m in judged.values():
        assert m.value is not None and "judge errors" not in m.note, m
    assert 0.0 <= (judged["judge_faithfulness"].value or 0) <= 1.0
    assert 1.0 <= (judged["judge_offer_rubric"].value or 0) <= 5.0
    assert requests and all(r["model"] == "fake-judge" for r in requests)
    # The summary the judge read is the redacted one: no request carries raw PII.
    assert not any(redact(json.dumps(r)).findings for r in requests)
    # A judge that is down leaves notes, never failed cases.
    down = cli.invoke(
        app,
        ["eval", "run", "scenarios", "--out", str(tmp_path / "b"), "--scenarios", str(folder)],
        env=env | {"COPILOT_JUDGE_URL": "http://127.0.0.1:9/v1"},
    )
    assert down.exit_code == 0, down.output
    suite = load(tmp_path / "b").suites[0]
    assert all(c.passed for c in suite.cases)
    faith = suite.metric("judge_faithfulness")
    assert faith is not None and faith.value is None and "judge errors" in faith.note


def test_thresholds_for_one_engine_judge_only_its_runs(tmp_path: Path) -> None:
    rules_file = tmp_path / "t.yaml"
    rules_file.write_text(
        "scenarios.pass_rate: {min: 1.0}\nscenarios.llm_fallback_rate: {max: 0, engine: llm}\n"
    )
    rules = load_thresholds(rules_file)
    suite = Suite(
        name="scenarios", status="ran", metrics=[Metric(key="pass_rate", label="p", value=1.0)]
    )
    offline = Run(run_id="r1", engine="offline", trials=1, suites=[suite])
    assert breaches(offline, rules).breaches == []
    llm = offline.model_copy(update={"engine": "llm"})
    assert breaches(llm, rules).breaches == [
        "scenarios.llm_fallback_rate not measured (suite 'scenarios' reports no such metric)"
    ]
    rules_file.write_text("scenarios.x: {max: 0, engine: gpu}\n")
    with pytest.raises(CopilotError, match=r"scenarios\.x\.engine"):
        load_thresholds(rules_file)


def test_policy_rejections_count_by_rule_not_by_turn() -> None:
    from evals.suites.scenarios import rejection_kind

    one = rejection_kind("summary names order W100011720, which is not this customer's")
    other = rejection_kind("summary names order S900000201, which is not this customer's")
    assert one == other == "summary names order …, which is not this customer's"
    assert rejection_kind("reply names $1,234.50, which no record or passage holds") == (
        "reply names …, which no record or passage holds"
    )
    assert rejection_kind("update_autopay: its target is not this customer's") == (
        "update_autopay: its target is not this customer's"
    )
