"""PII looks the same everywhere: every output of every shipped scenario, scanned.

Each scenario is replayed through the shipped engine; the panel updates, the stored session log
(text and data), the handoff packet read off the session, and everything logged meanwhile are
scanned with the one redaction policy. Cards, national ids, bank accounts and secrets the
customer typed must come out masked in all of them, and the raw values must appear nowhere.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest

from copilot import scenario as scenarios
from copilot.handoff import HandoffRequest
from copilot.handoff_intake import build_packet
from copilot.pii import redact, redact_reply, unmasked
from tests.conftest import Played

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
                # A password whole; for numbers the digits, without the words that introduced
                # them ("pin is 4821").
                digits = [] if finding.kind == "secret" else re.findall(r"\d[\d -]{2,}\d", raw)
                out += digits or [raw]
    return sorted(set(out))


@pytest.mark.parametrize("name", [p.stem for p in FILES])
def test_no_output_of_a_scenario_carries_unmasked_pii(
    name: str, shipped_replays: dict[str, Played]
) -> None:
    played = shipped_replays[name]
    scenario, engine = played.scenario, played.engine
    live = engine.live(scenario.name)
    assert live is not None
    packet = build_packet(
        HandoffRequest(handoff_id="h1"), live.state, scenario.name, datetime.now(UTC)
    )
    stored = engine.deps.store.events(scenario.name)
    outputs = {
        "panel updates": played.replay.transcript,
        "stored log": "\n".join(e.model_dump_json(include={"text", "data"}) for e in stored),
        "handoff packet": packet.model_dump_json(),
        "logs": played.logs,
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
