"""`copilot bench tokens`: our prompt tokens per turn stay flat; both baselines' grow."""

from __future__ import annotations

import itertools
import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.settings import load_settings
from copilot.testing.fake_openai import Reply, prompt_tokens
from evals.bench import tokens
from server.cli import app
from tools.kb.tokens import count


@pytest.fixture(scope="module")
def measured(data_dir: Path, demo_kb: Path) -> tuple[list[tokens.Row], list[dict[str, Any]]]:
    """The 4- and 8-turn runs, and every request the baselines' model was sent, in order."""
    seen: list[dict[str, Any]] = []
    respond = tokens.baseline_respond

    def recording(body: dict[str, Any]) -> Reply:
        seen.append(body)
        return respond(body)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(tokens, "baseline_respond", recording)
        rows = tokens.run((4, 8), settings=load_settings(data_dir=data_dir, kb_dir=demo_kb))
    return rows, seen


@pytest.fixture(scope="module")
def rows(measured: tuple[list[tokens.Row], list[dict[str, Any]]]) -> list[tokens.Row]:
    return measured[0]


def is_history(body: dict[str, Any]) -> bool:
    """A request of the agent-history thread: its first line is the standing instruction."""
    return bool(body["messages"][1]["content"] == tokens.THREAD_INSTRUCTION)


@pytest.fixture(scope="module")
def transcript_requests(
    measured: tuple[list[tokens.Row], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The transcript baseline's requests of the 8-turn conversation (after the 4-turn one)."""
    bodies = [b for b in measured[1] if not is_history(b)]
    assert len(bodies) == 2 * (4 + 8)
    return bodies[2 * 4 :]


@pytest.fixture(scope="module")
def history_requests(
    measured: tuple[list[tokens.Row], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The agent-history baseline's requests of the 8-turn conversation."""
    bodies = [b for b in measured[1] if is_history(b)]
    assert len(bodies) == customer_turns(4) + 4 + customer_turns(8) + 8
    return bodies[customer_turns(4) + 4 :]


def customer_turns(turns: int) -> int:
    return sum(speaker == "customer" for speaker, _ in tokens.conversation(turns))


def calls(message: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    return [
        (c["function"]["name"], json.loads(c["function"]["arguments"] or "{}"))
        for c in message.get("tool_calls") or []
    ]


def latest_customer_line(turns: list[tuple[str, str]]) -> str:
    """The baselines' knowledge query: the last three customer lines, as a model would ask."""
    said = [text for speaker, text in turns if speaker == "customer"]
    return " ".join(said[-3:])[:500]


def steps(per_turn: list[int]) -> list[int]:
    """How much each turn sent over the turn before it."""
    return [b - a for a, b in itertools.pairwise(per_turn)]


def test_one_model_turn_per_event_and_none_falls_back(rows: list[tokens.Row]) -> None:
    for row in rows:
        assert row.ours_requests == row.turns
        assert row.ours_fallbacks == 0
        # The transcript agent fetches the facts and knowledge, then writes: two requests a turn.
        assert row.transcript_requests == 2 * row.turns
        # The agent with history fetches and searches on a customer turn, then writes (two
        # requests); on an agent turn it has nothing new to look up and writes at once (one).
        assert row.history_requests == row.turns + customer_turns(row.turns)
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
    rows: list[tokens.Row], transcript_requests: list[dict[str, Any]]
) -> None:
    short, long = rows
    # The same conversation, so the first four turns cost the same on both runs.
    for side in tokens.SIDES:
        assert long.per_turn(side)[:4] == short.per_turn(side), side
    # Ours: tokens per turn do not grow with the conversation.
    assert tokens.linearity(rows, "ours") < 1.15
    assert max(long.ours_per_turn) < 1.35 * long.ours_per_turn[0]
    # The transcript baseline: every turn re-sends every earlier line, in both of its requests
    # (the search results under them change with the customer's line, so the first is judged).
    lines = tokens.conversation(8)
    firsts = [prompt_tokens(b) for b in transcript_requests[::2]]
    for i, grew in enumerate(steps(firsts), start=1):
        assert grew >= count(lines[i][1]), (i, grew)
    # With the search for an unchanged customer line, an agent turn grows by its line twice.
    for i, grew in enumerate(steps(long.transcript_per_turn), start=1):
        if lines[i][0] == "agent":
            assert grew >= 2 * count(lines[i][1]), (i, grew)
    assert long.transcript > long.ours


def test_the_transcript_baseline_gathers_what_our_prompt_carries_every_turn(
    transcript_requests: list[dict[str, Any]],
) -> None:
    lines = tokens.conversation(8)
    found = 0
    for turn in range(8):
        ask, write = transcript_requests[2 * turn : 2 * turn + 2]
        # The whole transcript so far, then the instruction; nothing fetched yet.
        assert ask["messages"][-1]["content"] == tokens.INSTRUCTION
        assert not any(m["role"] == "tool" for m in ask["messages"])
        # One response of four parallel calls: the facts, and knowledge for the customer's line.
        fetched, *results = write["messages"][-5:]
        assert calls(fetched) == [
            ("customer_profile", {}),
            ("billing_accounts", {}),
            ("customer_orders", {}),
            ("search_knowledge", {"query": latest_customer_line(lines[: turn + 1])}),
        ]
        assert [m["role"] for m in results] == ["tool"] * 4
        profile, accounts, orders, knowledge = (str(m["content"]) for m in results)
        assert '"customer_id"' in profile
        assert '"account_number"' in accounts
        assert '"orders"' in orders
        # Passages, or the retriever's word that none clears its confidence floor.
        assert '"passage_id"' in knowledge or '"message"' in knowledge
        found += '"passage_id"' in knowledge
        # No tool error or refusal (those are sentences): each result is the data, as JSON.
        assert all(str(m["content"]).startswith(("{", "[")) for m in results)
    # The opener's past-due question clears the floor (its search is repeated on the agent turn
    # after it); some later lines, read alone, do not.
    assert found >= 2, found


def test_the_agent_history_baseline_fetches_facts_once_and_searches_each_customer_turn(
    history_requests: list[dict[str, Any]],
) -> None:
    lines = tokens.conversation(8)
    # The last request re-reads the whole thread: every tool call the agent ever made.
    made = [c for m in history_requests[-1]["messages"] for c in calls(m)]
    for name in tokens.FACT_TOOLS:
        assert [c for c in made if c[0] == name] == [(name, {})]
    customer_turns = [i for i, (speaker, _) in enumerate(lines) if speaker == "customer"]
    assert [c[1]["query"] for c in made if c[0] == "search_knowledge"] == [
        latest_customer_line(lines[: i + 1]) for i in customer_turns
    ]
    assert sum(c[0] == "write_cards" for c in made) == 7  # the eighth is this request's answer
    # The first turn fetches all four in one response; a later customer turn only searches.
    first = history_requests[1]["messages"]
    assert [name for name, _ in calls(first[-5])] == [*tokens.FACT_TOOLS, "search_knowledge"]
    third = history_requests[4]["messages"]  # turns 1 and 3 took two requests, turn 2 one
    assert third[-3]["content"].endswith(lines[2][1])
    assert calls(third[-2]) == [("search_knowledge", {"query": latest_customer_line(lines[:3])})]


def test_the_agent_history_baseline_grows_faster_than_the_transcript_one(
    rows: list[tokens.Row],
) -> None:
    long = rows[1]
    lines = tokens.conversation(8)
    history, transcript = long.history_per_turn, long.transcript_per_turn
    # Each turn re-reads the thread: the new lines, and before them every earlier line with the
    # agent's calls and their results. Turns two apart take as many requests, each of which
    # carries at least the two lines in between.
    for i in range(2, 8):
        requests = 2 if lines[i][0] == "customer" else 1
        grew = history[i] - history[i - 2]
        assert grew > requests * (count(lines[i - 1][1]) + count(lines[i][1])), (i, grew)
    # It climbs more per turn than the transcript baseline, which re-sends the lines alone.
    assert history[7] - history[1] > transcript[7] - transcript[1]
    # And at 8 turns it already sends more than we do, in all and on the last turn.
    assert long.history > long.ours
    assert history[7] > long.ours_per_turn[7]


def test_the_40_turn_target_is_judged_against_each_baseline_on_its_own() -> None:
    def row(turns: int, ours: int, transcript: int, history: int) -> tokens.Row:
        return tokens.Row(turns, ours, transcript, history, turns, 2 * turns, turns * 3 // 2, 0)

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
