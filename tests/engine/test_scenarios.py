"""Every shipped scenario is valid, matches the published schema, and meets its expectations."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from copilot import scenario as scenarios
from copilot.actions import ActionLedger
from tests.conftest import FullEngine, Played, own_systems
from tools.errors import InvalidInput

FOLDER = Path(__file__).resolve().parents[2] / "evals" / "scenarios"
FILES = sorted(FOLDER.glob("*.yaml"))


def test_schema_file_is_current() -> None:
    published = json.loads((FOLDER / "schema.json").read_text())
    assert published == scenarios.Scenario.model_json_schema()


def readme_example(folder: Path) -> Path:
    """The scenario the README shows QA teams, as a file."""
    readme = (FOLDER.parents[1] / "README.md").read_text()
    body = readme.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = folder / "readme-example.yaml"
    path.write_text(body)
    return path


@pytest.mark.parametrize("name", [p.stem for p in FILES])
def test_scenario_replays_with_expectations_met(
    name: str, shipped_replays: dict[str, Played]
) -> None:
    played = shipped_replays[name]
    assert scenarios.check(played.scenario, played.replay) == []


@pytest.mark.anyio
async def test_the_readme_scenario_replays_with_expectations_met(
    full_engine: FullEngine, data_dir: Path, tmp_path: Path
) -> None:
    scenario = scenarios.load(readme_example(tmp_path))
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = full_engine(
        url,
        list(scenario.unavailable),
        systems=own_systems(data_dir, tmp_path / "data"),  # approvals write to them
        actions=ActionLedger(url),
    )
    replay = await scenarios.play(engine, scenario, scenario.name)
    assert scenarios.check(scenario, replay) == []


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("name: Bad Name\nturns: [{text: hi}]", "name"),
        ("name: x\nturns: []", "turns"),
        ("name: x\nturns: [{speaker: robot, text: hi}]", "speaker"),
        ("name: x\nturns: [{text: hi}]\nexpect: {mood: furious}", "mood"),
        ("name: x\nturns: [{text: hi}]\nsurprise: 1", "surprise"),
        ("name: [unclosed", "YAML"),
        (
            "name: x\nturns: [{type: metadata, secure_form: {brand: Visa, last4: '4242',"
            " exp_month: 3, exp_year: 2031, card_number: '4111111111111111'}}]",
            "card_number",
        ),
    ],
)
def test_bad_scenario_files_name_the_problem(tmp_path: Path, text: str, needle: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text)
    with pytest.raises(InvalidInput) as caught:
        scenarios.load(path)
    assert needle in caught.value.message and str(path) in caught.value.message


def test_bad_scenario_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "name: x\nturns:\n  - {text: hi}\n  - speaker: robot\n    text: hello\n"
        "expect:\n  mood: furious\n"
    )
    with pytest.raises(InvalidInput) as caught:
        scenarios.load(path)
    message = caught.value.message
    assert "line 4: turns.1.speaker" in message and "line 7: expect.mood" in message
