"""`copilot bench load`: sessions over HTTP against a real `copilot serve` process."""

from __future__ import annotations

import math
from pathlib import Path

import pytest
from typer.testing import CliRunner

from evals.bench import load
from server.cli import app


@pytest.fixture(scope="module")
def rows(data_dir: Path, demo_kb: Path) -> list[load.Row]:
    """One session, then five, for 6 s each, a line every half second or so."""
    return load.run((1, 5), 6.0, data_dir, demo_kb, think=(0.4, 0.8))


def test_every_posted_event_reaches_its_stream_without_errors(rows: list[load.Row]) -> None:
    assert [r.sessions for r in rows] == [1, 5]
    for r in rows:
        assert r.errors == []
        assert r.lost == r.late == r.gaps == r.missing == 0
        assert r.sent >= 4 * r.sessions
        assert r.delivered == r.sent
        assert len(r.latencies_ms) == r.sent
        assert len(r.engine_ms) == r.sent
        assert r.events_per_s > 0
        assert math.isfinite(r.p50) and math.isfinite(r.p95)
        assert 0 < r.p50 <= r.p95 <= r.max_ms < load.TIMEOUT_S * 1000
        assert r.rss_mib > 0 and r.server_cpu > 0 and r.client_cpu > 0
        # 6 s levels end before the ramp + 10 s: no steady-state events, so no steady figures.
        assert r.steady_n == len(r.steady_ms) == 0 and r.steady_lost == 0
        assert r.steady_p50 is None and r.steady_p95 is None
        assert len(r.firsts) == len(r.latencies_ms) and sum(r.firsts) == r.sessions
        assert 0 <= r.slow_firsts()[0] <= r.slow_firsts()[1]
    assert [met for _, met, _ in load.verdicts(rows)] == [None, True, True]
    assert load.steady_verdict(rows)[1] is None


def make_row(sessions: int, latencies: list[float], errors: int = 0, lost: int = 0) -> load.Row:
    return load.Row(
        sessions=sessions,
        seconds=10.0,
        sent=len(latencies) + lost,
        delivered=len(latencies),
        latencies_ms=latencies,
        engine_ms=[5.0] * len(latencies),
        errors=["post event: HTTP 503 busy"] * errors,
        lost=lost,
        late=lost,
        gaps=0,
        rss_mib=700.0,
        server_cpu=0.5,
        client_cpu=0.3,
    )


def test_targets_are_judged_honestly() -> None:
    calm = [make_row(1, [20.0] * 10), make_row(200, [30.0] * 95 + [240.0] * 5)]
    assert [met for _, met, _ in load.verdicts(calm)] == [True, True, True]
    slow = [make_row(1, [20.0] * 10), make_row(200, [30.0] * 90 + [400.0] * 10, errors=2)]
    got = load.verdicts(slow)
    assert [met for _, met, _ in got] == [False, False, True]
    assert got[0][2].startswith("p95 400 ms") and "2 at 200" in got[1][2]
    # What was lost has no latency: a fast p95 over the rest does not pass.
    steady = make_row(200, [30.0] * 100)
    steady.steady_ms = [30.0] * 40 + [300.0] * 2
    assert isinstance(steady.steady_p95, float) and steady.steady_n == 42
    assert load.steady_verdict([steady])[1] is True
    steady.steady_ms += [300.0] * 3
    assert load.steady_verdict([steady])[1] is False
    lossy = [make_row(200, [30.0] * 100, lost=3)]
    got = load.verdicts(lossy)
    assert [met for _, met, _ in got] == [False, True, False]
    assert "3 late, 0 never seen, 0 gaps" in got[2][2]


def test_a_version_gap_counts_as_lost() -> None:
    session = load._Session(0, [("customer", "hi")])
    session.seen({"version": 0, "event_id": "snapshot", "source": "fast"}, 0.0)
    session.seen({"version": 1, "event_id": "e1", "source": "fast"}, 1.0)
    session.seen({"version": 3, "event_id": "e3", "source": "fast"}, 2.0)
    assert session.ready.is_set()
    assert session.gaps == 1 and session.arrived == {"e1": 1.0, "e3": 2.0}


def test_sse_parsing_skips_comments_ids_and_retry() -> None:
    lines = ["retry: 2000", "", ": ping", "", "id: 3", "event: panel_update", 'data: {"a": 1}', ""]
    assert list(load.parse_sse(lines)) == [("panel_update", '{"a": 1}')]


def test_scripts_alternate_and_half_open_with_a_story_phone() -> None:
    scripts = load.scripts(6)
    for i, lines in enumerate(scripts):
        # Cycled, the lines keep alternating: customer, agent, customer, agent...
        assert len(lines) % 2 == 0
        assert [s for s, _ in lines] == ["customer", "agent"] * (len(lines) // 2)
        if i % 2 == 0:
            assert load.STORY_PHONES[i // 2] in lines[0][1]


def test_missing_data_says_how_to_make_it(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="copilot data generate"):
        load.run((1,), 5.0, tmp_path / "none", tmp_path / "kb")


def test_command_prints_the_baseline_first_and_the_targets(
    rows: list[load.Row], monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[list[int]] = []

    def fake_run(levels: list[int], seconds: float, *_: object) -> list[load.Row]:
        seen.append(levels)
        assert seconds == 6.0
        return rows

    monkeypatch.setattr(load, "run", fake_run)
    got = CliRunner().invoke(app, ["bench", "load", "--sessions", "5", "--seconds", "6"])
    assert got.exit_code == 0, got.output
    assert seen == [[1, 5]]
    assert "event-to-panel latency" in got.output and "baseline" in got.output
    assert "cores" in got.output
    assert "NOT JUDGED p95 <= 250 ms at 200 sessions" in got.output
    assert "NOT JUDGED steady-state p95 <= 250 ms at 200 sessions" in got.output
    assert "steady" in got.output and "slowest 5% at 5 sessions" in got.output
    assert "PASS zero errors" in got.output and "PASS zero lost updates" in got.output


def test_command_skips_without_data(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "none"))
    got = CliRunner().invoke(app, ["bench", "load", "--sessions", "2", "--seconds", "5"])
    assert got.exit_code == 0, got.output
    assert "skipped" in got.output and "copilot data generate" in got.output
