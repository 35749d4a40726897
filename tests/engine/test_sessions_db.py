"""The sessions database on PostgreSQL: migrated once with `copilot db upgrade`, refused until
then with a message saying so, and every store of copilot/store.py working on it."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from copilot import sessions_db, store
from copilot.actions import ActionLedger
from copilot.event_log import SessionStore, Stale
from copilot.events import Event
from copilot.handoff_intake import HandoffStore
from copilot.offers import OfferLedger
from copilot.session_registry import SessionRegistry
from copilot.touchpoints import TouchpointLog
from tests.test_cli import copilot
from tools.errors import ConfigurationError


def test_an_unmigrated_database_is_refused_until_copilot_db_upgrade(
    postgres: dict[str, str],
) -> None:
    url = postgres["unmigrated"]
    env = {"COPILOT_SESSIONS_URL": url}
    with pytest.raises(ConfigurationError, match="copilot db upgrade"):
        sessions_db.require_current(url)
    status = copilot("db", "status", env=env)
    assert status.returncode == 1 and "at none" in status.stdout
    assert "copilot db upgrade" in status.stderr and "Traceback" not in status.stderr
    served = copilot("serve", "--port", "1", env=env)  # refused before it listens
    assert served.returncode == 2 and "copilot db upgrade" in served.stderr
    first = copilot("db", "upgrade", env=env)
    assert first.returncode == 0 and f"empty -> {sessions_db.head()}" in first.stdout
    again = copilot("db", "upgrade", env=env)
    assert again.returncode == 0 and "already at" in again.stdout
    sessions_db.require_current(url)
    with pytest.raises(ConfigurationError, match="cannot open the sessions database"):
        sessions_db.require_current(url.rsplit("/", 1)[0] + "/nope")


def test_every_store_works_on_postgresql(postgres_sessions: str) -> None:
    url = postgres_sessions
    events: store.EventLog = SessionStore(url)
    proposals: store.ProposalLog = ActionLedger(url)
    offers: store.OfferLog = OfferLedger(url)
    points: store.TouchpointStore = TouchpointLog(url)
    directory: store.SessionDirectory = SessionRegistry(url)
    handoffs: store.HandoffLog = HandoffStore(url)
    info = directory.create("brightwave", "chat", "agent one")
    assert events.events(info.session_id) == [] and proposals.session(info.session_id) == []
    assert handoffs.find("brightwave", "nope") is None and points.get(info.session_id) is None
    assert offers.history(info.session_id).session_id == info.session_id
    events.save_version(info.session_id, 7)
    events.save_version(info.session_id, 5)  # never backwards
    assert events.version(info.session_id) == 7


def test_an_embedded_database_made_before_migrations_is_taken_as_the_baseline(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    SessionStore(url)  # tables made on open, as every embedded database so far
    assert sessions_db.current(url) is None
    assert sessions_db.upgrade(url) == (sessions_db.BASELINE, sessions_db.head())


def test_two_writers_appending_at_one_version_store_one_and_fence_the_other(
    postgres_sessions: str,
) -> None:
    # Another worker, as raw SQL in its own transaction: it has read version 1 and is about to
    # store its event at 2. This worker appends at 1 meanwhile; it must wait, then see 2.
    log = SessionStore(postgres_sessions)
    sid = f"fence-{uuid.uuid4().hex[:8]}"
    log.append_all([_line(sid, "a")], 0)
    assert log.version(sid) == 1
    other = create_engine(postgres_sessions)
    outcome: list[object] = []
    try:
        with other.begin() as conn:
            conn.execute(
                text("SELECT version FROM panel_versions WHERE session_id = :s FOR UPDATE"),
                {"s": sid},
            )
            writer = threading.Thread(
                target=lambda: outcome.append(_attempt(log, _line(sid, "b"), 1)), daemon=True
            )
            writer.start()
            time.sleep(0.5)  # it reaches the lock and waits (before: it read 1 and went on)
            conn.execute(
                text("UPDATE panel_versions SET version = 2 WHERE session_id = :s"), {"s": sid}
            )
        writer.join(10)
    finally:
        other.dispose()
    assert len(outcome) == 1 and isinstance(outcome[0], Stale), outcome
    assert outcome[0].kept == 2
    assert [e.event_id for e in log.events(sid)] == ["a"]  # nothing of the fenced append


def _line(sid: str, event_id: str) -> Event:
    return Event(
        event_id=event_id,
        session_id=sid,
        type="utterance",
        text="Hello there.",
        ts=datetime.now(UTC),
    )


def _attempt(log: SessionStore, event: Event, at: int) -> object:
    try:
        return log.append_all([event], at)
    except Stale as exc:
        return exc


def test_doctor_checks_the_sessions_database_and_redis(
    postgres: dict[str, str], postgres_sessions: str, redis_url: str, data_dir: Path, demo_kb: Path
) -> None:
    base = {"COPILOT_DATA_DIR": str(data_dir), "COPILOT_KB_DIR": str(demo_kb)}

    def checks(**env: str) -> tuple[int, dict[str, tuple[bool, str]]]:
        done = copilot("doctor", "--json", env={**base, **env})
        rows = json.loads(done.stdout.strip().splitlines()[-1])
        return done.returncode, {r["check"]: (r["ok"], r["detail"]) for r in rows}

    code, found = checks(COPILOT_SESSIONS_URL=postgres_sessions, COPILOT_REDIS_URL=redis_url)
    assert code == 0, found
    assert found["sessions"] == (True, f"{postgres_sessions} at revision {sessions_db.head()}")
    assert found["redis"] == (True, f"{redis_url} answers")
    fresh = postgres["unmigrated"].rsplit("/", 1)[0] + "/doctor_fresh"
    admin = create_engine(postgres_sessions, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text("DROP DATABASE IF EXISTS doctor_fresh"))
            conn.execute(text("CREATE DATABASE doctor_fresh"))
    finally:
        admin.dispose()  # a pooled connection left to the garbage collector warns in a later test
    code, found = checks(
        COPILOT_SESSIONS_URL=fresh.replace("postgres@", "postgres:s3cret@"),
        COPILOT_REDIS_URL="redis://:hunter2@127.0.0.1:9/0",
    )
    assert code == 1
    ok, detail = found["sessions"]
    assert not ok and "copilot db upgrade" in detail and "s3cret" not in detail
    ok, detail = found["redis"]
    assert not ok and "does not answer" in detail and "hunter2" not in detail
