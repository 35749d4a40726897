"""What a QA lead reads: replay as JSON Lines, the report's failures with their reruns, compare.

Two real runs of the scenario suite: A over two shipped scenarios, B over the same two with one
expectation changed so that scenario fails.
"""

from __future__ import annotations

import hashlib
import json
import shlex
import shutil
from importlib.metadata import version
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.report import Run, load, repro
from evals.suites.scenarios import FOLDER
from server.cli import app

PASSING, BROKEN = "pii-in-chat", "angry-competitor"


@pytest.fixture(scope="module")
def env(data_dir: Path, demo_kb: Path) -> dict[str, str]:
    return {"COPILOT_DATA_DIR": str(data_dir), "COPILOT_KB_DIR": str(demo_kb)}


def _folder(root: Path, broken: bool) -> Path:
    root.mkdir()
    for name in (PASSING, BROKEN):
        shutil.copy(FOLDER / f"{name}.yaml", root)
    if broken:
        path = root / f"{BROKEN}.yaml"
        text = path.read_text()
        assert "  mood: negative\n" in text
        path.write_text(text.replace("  mood: negative\n", "  mood: positive\n"))
    return root


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory, env: dict[str, str]) -> dict[str, Path]:
    """Folders a (both pass) and b (BROKEN fails), made by the real `copilot eval run`."""
    root = tmp_path_factory.mktemp("runs")
    out: dict[str, Path] = {}
    for key, broken in (("a", False), ("b", True)):
        scenarios = _folder(root / f"scenarios-{key}", broken)
        got = CliRunner().invoke(
            app,
            ["eval", "run", "scenarios", "--scenarios", str(scenarios), "--out", str(root / key)],
            env=env,
        )
        assert got.exit_code == 0, got.output
        # Not a terminal: a plain line per suite on stderr, no control codes anywhere.
        assert "\x1b" not in got.output
        assert "[1/1] scenarios: 2 scenarios" in got.stderr
        assert "[1/1]" not in got.stdout
        out[key] = root / key
        out[f"scenarios-{key}"] = scenarios
    return out


def test_replay_json_writes_json_lines_and_the_verdict_on_stderr(
    env: dict[str, str], runs: dict[str, Path]
) -> None:
    cli = CliRunner()
    good = cli.invoke(app, ["replay", str(FOLDER / f"{BROKEN}.yaml"), "--json"], env=env)
    assert good.exit_code == 0, good.output
    lines = [json.loads(line) for line in good.stdout.splitlines()]
    assert {d["type"] for d in lines[:-1]} == {"panel_update"} and len(lines) > 2
    assert [d["version"] for d in lines[:-1]] == list(range(1, len(lines)))
    assert lines[-1] == {
        "type": "scenario_result",
        "scenario": BROKEN,
        "passed": True,
        "failures": [],
        "updates": len(lines) - 1,
    }
    assert "PASS" not in good.stdout and f"PASS {BROKEN}" in good.stderr

    bad = cli.invoke(
        app, ["replay", str(runs["scenarios-b"] / f"{BROKEN}.yaml"), "--json"], env=env
    )
    assert bad.exit_code == 1
    last = json.loads(bad.stdout.splitlines()[-1])
    assert last["passed"] is False and last["failures"][0].startswith("mood:")
    assert "FAIL mood:" in bad.stderr and "FAIL" not in bad.stdout


def test_report_lists_failures_first_with_their_rerun_and_what_it_ran_on(
    runs: dict[str, Path], env: dict[str, str]
) -> None:
    run = load(runs["b"])
    page = (runs["b"] / "report.html").read_text()
    failures, suite = page.index('<section class="failures"'), page.index('<section class="suite"')
    assert failures < suite
    rows = page[page.index('<table class="cases">') :]
    assert rows.index(f"{BROKEN}<") < rows.index(f"{PASSING}<")  # failed row first
    command, watch = repro(run, "scenarios", BROKEN)
    folder = str(runs["scenarios-b"])
    assert command == (
        f"COPILOT_DATA_DIR={env['COPILOT_DATA_DIR']} COPILOT_KB_DIR={env['COPILOT_KB_DIR']} "
        f"copilot eval run scenarios --scenarios {folder} --only {BROKEN}"
    )
    assert watch.endswith(f"copilot replay {folder}/{BROKEN}.yaml")
    section = page[failures:suite]
    assert command in section and watch in section and "mood: expected positive" in section
    assert "1/2 cases passed" in page and "1/2 passed" in page

    p = run.provenance
    assert p is not None and p.copilot_version == version("copilot")
    assert (p.data_customers, p.data_seed) == (2000, 42)
    digest = hashlib.sha256()
    for f in sorted(runs["scenarios-b"].glob("*.yaml")):
        digest.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    assert p.scenario_hash == digest.hexdigest()[:12] and p.scenario_files == 2
    other = load(runs["a"]).provenance
    assert other is not None and other.scenario_hash != p.scenario_hash
    for shown in (p.copilot_version, "2,000 customers, seed 42", p.scenario_hash):
        assert shown in page[:failures], shown

    # The command the report gives reruns exactly that scenario, and it fails again.
    args = shlex.split(command)
    rerun = dict(a.split("=", 1) for a in args[:2])
    out = runs["b"].parent / "rerun"
    got = CliRunner().invoke(app, [*args[3:], "--out", str(out)], env=rerun)
    assert got.exit_code == 0, got.output
    cases = load(out).suites[0].cases
    assert [(c.name, c.passed) for c in cases] == [(BROKEN, False)]


def test_only_names_what_it_could_not_find(env: dict[str, str]) -> None:
    got = CliRunner().invoke(
        app, ["eval", "run", "scenarios", "--only", "angry-competiter"], env=env
    )
    assert got.exit_code == 2
    assert "no scenario 'angry-competiter'" in got.output and "angry-competitor" in got.output


def test_compare_names_the_newly_failing_and_exits_1_only_when_asked(
    runs: dict[str, Path],
) -> None:
    cli = CliRunner()
    a, b = str(runs["a"]), str(runs["b"])
    told = cli.invoke(app, ["eval", "compare", a, b])
    assert told.exit_code == 0, told.output
    assert f"newly failing (1): scenarios/{BROKEN}" in told.output
    assert "scenarios: 2/2 -> 1/2 passed" in told.output
    assert "the runs differ in scenario files" in told.output
    gated = cli.invoke(app, ["eval", "compare", a, b, "--fail-on-regression"])
    assert gated.exit_code == 1 and f"scenarios/{BROKEN}" in gated.output
    back = cli.invoke(app, ["eval", "compare", b, a])
    assert back.exit_code == 0 and f"newly passing (1): scenarios/{BROKEN}" in back.output
    assert "newly failing" not in back.output


def _slower(run: Run, factor: float, plus_ms: float, out: Path) -> Path:
    """The run with every latency metric scaled and shifted, as its report.json."""
    copy = run.model_copy(deep=True, update={"run_id": f"{run.run_id}-slower"})
    for suite in copy.suites:
        for m in suite.metrics:
            if m.unit == "ms" and m.value is not None:
                m.value = m.value * factor + plus_ms
    out.mkdir()
    (out / "report.json").write_text(copy.model_dump_json())
    return out


def test_latency_noise_is_not_a_regression_but_a_real_slowdown_is(
    runs: dict[str, Path], tmp_path: Path
) -> None:
    run = load(runs["a"])
    cli = CliRunner()
    noisy = _slower(run, 1.3, 5.0, tmp_path / "noisy")
    got = cli.invoke(app, ["eval", "compare", str(runs["a"]), str(noisy), "--fail-on-regression"])
    assert got.exit_code == 0, got.output
    assert "noise" in got.output and "no regressions" in got.output
    slow = _slower(run, 3.0, 200.0, tmp_path / "slow")
    got = cli.invoke(app, ["eval", "compare", str(runs["a"]), str(slow), "--fail-on-regression"])
    assert got.exit_code == 1 and "scenarios.time_to_card_p95" in got.output
    # Three times slower is within a band of five times run A's value, however fast A was (the
    # 200 ms added above would fall outside it whenever A took under 67 ms).
    tripled = _slower(run, 3.0, 0.0, tmp_path / "tripled")
    wider = cli.invoke(
        app,
        [
            *("eval", "compare", str(runs["a"]), str(tripled)),
            *("--fail-on-regression", "--latency-noise", "5"),
        ],
    )
    assert wider.exit_code == 0, wider.output
