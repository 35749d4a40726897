"""`copilot bench tokens`: our prompt tokens per turn stay flat; both baselines' grow."""

from __future__ import annotations

import itertools
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli import app
from copilot.settings import load_settings
from evals.bench import tokens
from tools.kb.tokens import count


@pytest.fixture(scope="module")
def rows(data_dir: Path, demo_kb: Path) -> list[tokens.Row]:
    return tokens.run((4, 8), settings=load_settings(data_dir=data_dir, kb_dir=demo_kb))


def steps(per_turn: list[int]) -> list[int]:
    """How much each turn sent over the turn before it."""
    return [b - a for a, b in itertools.pairwise(per_turn)]


def test_one_model_turn_per_event_and_none_falls_back(rows: list[tokens.Row]) -> None:
    for row in rows:
        assert row.ours_requests == row.turns
        assert row.ours_fallbacks == 0
        # The transcript agent looks the accounts up, then writes the cards: two requests a turn.
        assert row.transcript_requests == 2 * row.turns
        # The agent with history looks them up once; later turns find the result in the thread.
        assert row.history_requests == row.turns + 1
        for side in tokens.SIDES:
            assert len(row.per_turn(side)) == row.turns
            assert sum(row.per_turn(side)) == row.total(side)
            assert (
                row.requests(side)
                == {
                    "ours": row.ours_requests,
                    "transcript": row.transcript_requests,
                    "history": row.history_requests,
                }[side]
            )


def test_ours_stays_flat_while_the_transcript_baseline_rereads_it(
    rows: list[tokens.Row],
) -> None:
    short, long = rows
    # The same conversation, so the first four turns cost the same on both runs.
    for side in tokens.SIDES:
        assert long.per_turn(side)[:4] == short.per_turn(side), side
    # Ours: tokens per turn do not grow with the conversation.
    assert tokens.linearity(rows, "ours") < 1.15
    assert max(long.ours_per_turn) < 1.35 * long.ours_per_turn[0]
    # The transcript baseline: every turn re-sends every earlier line, in both of its requests.
    lines = tokens.conversation(8)
    for i, grew in enumerate(steps(long.transcript_per_turn), start=1):
        assert grew >= 2 * count(lines[i][1]), (i, grew)
    late_ours = long.ours_per_turn[4:]
    assert (
        max(late_ours) - min(late_ours) < long.transcript_per_turn[7] - long.transcript_per_turn[4]
    )
    assert long.transcript > long.ours


def test_the_agent_history_baseline_grows_faster_than_the_transcript_one(
    rows: list[tokens.Row],
) -> None:
    long = rows[1]
    lines = tokens.conversation(8)
    history, transcript = long.history_per_turn, long.transcript_per_turn
    # From the second turn on (one request a turn), each turn re-reads the thread: the new line,
    # and before it every earlier line with the agent's cards call and its result.
    for i, grew in enumerate(steps(history[1:]), start=2):
        assert grew > count(lines[i][1]), (i, grew)
    # It climbs more per turn than the transcript baseline, which re-sends the lines alone.
    assert history[7] - history[1] > transcript[7] - transcript[1]
    # And at 8 turns it already sends more than we do, in all and on the last turn.
    assert long.history > long.ours
    assert history[7] > long.ours_per_turn[7]


def test_the_40_turn_target_is_judged_against_each_baseline_on_its_own() -> None:
    def row(turns: int, ours: int, transcript: int, history: int) -> tokens.Row:
        return tokens.Row(turns, ours, transcript, history, turns, 2 * turns, turns + 1, 0)

    got = tokens.verdicts([row(10, 1_000, 3_000, 3_000), row(40, 4_000, 12_000, 24_000)])
    assert [met for _, met, _ in got] == [True, False, True]
    assert "transcript baseline at 40 turns" in got[1][0]
    assert "agent-history baseline at 40 turns" in got[2][0]
    assert got[1][2].startswith("3.00x fewer") and got[2][2].startswith("6.00x fewer")


def test_conversations_alternate_and_never_repeat_a_line() -> None:
    lines = tokens.conversation(30)
    assert [s for s, _ in lines[:4]] == ["customer", "agent", "customer", "agent"]
    assert all(a[0] != b[0] for a, b in itertools.pairwise(lines))
    assert len({t for _, t in lines}) == 30
    assert tokens.PHONE in lines[0][1]


def test_missing_data_says_how_to_make_it(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "none", kb_dir=tmp_path / "kb")
    with pytest.raises(FileNotFoundError, match="copilot data generate"):
        tokens.run((2,), settings=settings)


def test_command_prints_all_three_curves_and_the_targets(
    rows: list[tokens.Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    def fake_run(turns: list[int], settings: object, tick: object) -> list[tokens.Row]:
        assert turns == [4, 8]
        return rows

    monkeypatch.setattr(tokens, "run", fake_run)
    got = CliRunner().invoke(app, ["bench", "tokens", "--turns", "8", "--turns", "4"])
    assert got.exit_code == 0, got.output
    assert got.output.count("x fewer") >= 2
    assert "agent-history" in got.output
    table_row = next(line for line in got.output.splitlines() if line.startswith("│ 8 "))
    long = rows[1]
    for value in (long.ours, long.transcript, long.history):
        assert f"{value:,}" in table_row
    for note in tokens.NOTES:
        assert note in got.output
    for side in ("ours", "transcript", "history"):
        assert f"8 turns {side}" in got.output
    assert "linearity" in got.output
    assert "PASS ours grows linearly" in got.output
    # No 40-turn conversation here: only the linearity target is judged.
    assert "at 40 turns" not in got.output
