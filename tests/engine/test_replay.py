"""`copilot replay` end to end: real settings from the environment, real engine, real exit codes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from server.cli import app

SCENARIOS = Path(__file__).resolve().parents[2] / "evals" / "scenarios"


@pytest.fixture
def env(data_dir: Path, demo_kb: Path) -> dict[str, str]:
    return {"COPILOT_DATA_DIR": str(data_dir), "COPILOT_KB_DIR": str(demo_kb)}


def test_replay_prints_every_update_and_passes(env: dict[str, str]) -> None:
    got = CliRunner().invoke(
        app, ["replay", str(SCENARIOS / "past-due-fixed-then-offer.yaml"), "--json"], env=env
    )
    assert got.exit_code == 0, got.output
    assert "PASS past-due-fixed-then-offer" in got.output
    first = json.JSONDecoder().raw_decode(got.output[got.output.index("{") :])[0]
    assert first["schema_version"] == "1" and first["version"] == 1
    assert {c["type"] for c in first["cards"]} >= {"customer", "next_best_action", "offer"}
    assert re.search(r'"offer_id": ?"unlimited-upgrade"', got.output)


def test_replay_names_unmet_expectations(env: dict[str, str], tmp_path: Path) -> None:
    text = (SCENARIOS / "angry-competitor.yaml").read_text()
    wrong = tmp_path / "wrong.yaml"
    wrong.write_text(text.replace("offer: none", "offer: unlimited-upgrade"))
    got = CliRunner().invoke(app, ["replay", str(wrong)], env=env)
    assert got.exit_code == 1
    assert "FAIL offer: expected unlimited-upgrade, shown nothing" in got.output


@pytest.mark.parametrize(
    ("extra", "needle"),
    [
        ({}, "does not exist"),
        ({"COPILOT_PLAYBOOKS": "BROKEN"}, "playbooks:"),
        ({"COPILOT_OFFERS": "BROKEN"}, "catalogue:"),
    ],
)
def test_replay_bad_input_is_one_line(
    env: dict[str, str], tmp_path: Path, extra: dict[str, str], needle: str
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text("name: [\n")
    scenario = tmp_path / "missing.yaml" if not extra else SCENARIOS / "pii-in-chat.yaml"
    env = env | {k: str(broken) for k in extra}
    got = CliRunner().invoke(app, ["replay", str(scenario)], env=env)
    assert got.exit_code == 2 and needle in got.output
    assert "Traceback" not in got.output
