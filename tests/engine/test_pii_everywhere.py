"""PII looks the same everywhere: every output of every shipped scenario, scanned.

Each scenario is replayed through the shipped engine; the panel updates, the stored session log
(text and data), the handoff packet read off the session, and everything logged meanwhile are
scanned with the one redaction policy. Cards, national ids, bank accounts and secrets the
customer typed must come out masked in all of them, and the raw values must appear nowhere.
"""

from __future__ import annotations

import json
import logging
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot import scenario as scenarios
from copilot.actions import ActionLedger
from copilot.handoff import HandoffRequest
from copilot.handoff_intake import build_packet
from copilot.pii import redact, redact_reply, unmasked
from copilot.settings import load_settings
from copilot.systems import build_systems
from tests.conftest import FullEngine

FOLDER = Path(__file__).resolve().parents[2] / "evals" / "scenarios"
FILES = sorted(FOLDER.glob("*.yaml"))


def secrets_typed(scenario: scenarios.Scenario) -> list[str]:
    """The raw values the redaction policy masks, as the scenario's turns typed them."""
    out = []
    before = ""
    for turn in scenario.turns:
        if turn.speaker == "customer" and redact_reply(before, turn.text) is not None:
            out += re.findall(r"\d{4,}", turn.text)  # a bare code typed after a code prompt
        before = turn.text if turn.text else before
        for texts in (turn.text, json.dumps(turn.data)):
            for finding in redact(texts).findings:
                raw = texts[finding.start : finding.end]
                # The value itself, without the words that introduced it ("pin is 4821").
                out += re.findall(r"\d[\d -]{2,}\d", raw) or [raw]
    return sorted(set(out))


@pytest.mark.anyio
@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
async def test_no_output_of_a_scenario_carries_unmasked_pii(
    path: Path,
    full_engine: FullEngine,
    data_dir: Path,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    scenario = scenarios.load(path)
    own = tmp_path / "data"
    own.mkdir()
    for name in ("crm", "billing", "orders"):
        shutil.copy(data_dir / f"{name}.db", own / f"{name}.db")
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = full_engine(
        url,
        list(scenario.unavailable),
        systems=build_systems(load_settings(data_dir=own)),
        actions=ActionLedger(url),
    )
    caplog.set_level(logging.DEBUG)
    replay = await scenarios.play(engine, scenario, scenario.name)
    live = engine.live(scenario.name)
    assert live is not None
    packet = build_packet(
        HandoffRequest(handoff_id="h1"), live.state, scenario.name, datetime.now(UTC)
    )
    outputs = {
        "panel updates": replay.transcript,
        "stored log": "\n".join(
            e.model_dump_json(include={"text", "data"})
            for e in engine.deps.store.events(scenario.name)
        ),
        "handoff packet": packet.model_dump_json(),
        "logs": caplog.text,
    }
    for where, text in outputs.items():
        leaks = [text[f.start : f.end] for f in unmasked(text)]
        assert leaks == [], f"{where} of {scenario.name} carries unmasked {leaks}"
        for raw in secrets_typed(scenario):
            assert raw not in text, f"{where} of {scenario.name} carries {raw!r}"


def test_feedback_text_is_stored_masked(tmp_path: Path) -> None:
    from copilot.session_registry import SessionRegistry

    registry = SessionRegistry(f"sqlite:///{tmp_path / 'r.db'}")
    info = registry.create("brightwave", "chat", "agent one")
    registry.give_feedback(
        info.session_id, "summary", 1, "edited", "she read me 4111 1111 1111 1111, pin 4821", "a1"
    )
    [kept] = registry.feedback(info.session_id)
    assert kept.text is not None and "4111 1111" not in kept.text and "4821" not in kept.text
    assert unmasked(kept.text) == []
