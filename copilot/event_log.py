"""The session log: ordered, idempotent, persisted to SQLite so a restart loses nothing.

Only redacted text is ever written here.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from copilot.events import Event
from copilot.storage import open_database
from tools.errors import CopilotError

metadata = MetaData()
events_table = Table(
    "events",
    metadata,
    Column("session_id", String(128), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("arrival", Integer, nullable=False),
    Column("seq", BigInteger),
    Column("ts", DateTime, nullable=False, doc="UTC"),
    Column("type", String(16), nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("received_at", DateTime, nullable=False, doc="UTC"),
    PrimaryKeyConstraint("session_id", "event_id"),
)
versions_table = Table(
    "panel_versions",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("version", BigInteger, nullable=False),
)


class Appended(BaseModel):
    """What storing an event did: nothing (duplicate), or where it landed."""

    duplicate: bool
    conflict: bool = False
    late: bool = False
    arrival: int


def ordered(events: list[tuple[Event, int]]) -> list[Event]:
    """By sender sequence when every event has one, else by timestamp; arrival breaks ties."""
    if events and all(e.seq is not None for e, _ in events):
        return [e for e, _ in sorted(events, key=lambda p: (p[0].seq, p[1]))]
    return [e for e, _ in sorted(events, key=lambda p: (p[0].ts, p[0].seq or 0, p[1]))]


class EventConflict(CopilotError):
    """An event_id already stored with other content: a sender's bug, never applied."""

    status_code = 409
    code = "event_conflict"

    def __init__(self, event_ids: list[str]) -> None:
        super().__init__(
            f"event_id {', '.join(event_ids)} was already received with other content; "
            "send new events under new ids"
        )


class Stale(Exception):
    """Another writer moved the session on since this copy of it was read: read it again."""

    def __init__(self, session_id: str, at: int, kept: int) -> None:
        super().__init__(f"session {session_id} is at version {kept}, this copy at {at}")
        self.kept = kept


class SessionStore:
    """Append-only event log per session in SQLite (or any SQLAlchemy URL), with the panel
    version each session has reached (versions only grow, across restarts)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def append(self, event: Event, at: int | None = None) -> Appended:
        """Store an already-redacted event; the same event_id again changes nothing."""
        return self.append_all([event], at)[0]

    def append_all(self, batch: list[Event], at: int | None = None) -> list[Appended]:
        """Store a session's events in one transaction: all of them or, on error, none.

        at: the panel version the caller's copy of the session is at. The version the new
        events take it to is kept in the same commit (one per event, or one for the lot when
        one belongs before stored events and the log is folded again). When another writer
        (another worker) took the session past `at`, nothing is stored: Stale.
        """
        if not batch:
            return []
        try:
            return self._append(batch, at)
        except IntegrityError:
            # Another writer stored the session's first version, or one of these ids, between
            # the read and the insert: nothing of this batch is stored.
            if at is not None:
                raise Stale(batch[0].session_id, at, self.version(batch[0].session_id)) from None
            return self._append(batch, at)  # they now read as stored

    def _append(self, batch: list[Event], at: int | None) -> list[Appended]:
        session_id = batch[0].session_id
        c = events_table.c
        # One read for all the session's bookkeeping: which ids are stored already, where new
        # events land, and whether a stored event belongs after them (then the caller refolds).
        latest = select(func.max(c.arrival), func.max(c.seq), func.max(c.ts)).where(
            c.session_id == session_id
        )
        ids = [e.event_id for e in batch]
        stored_q = select(c.event_id, c.arrival, c.text, c.data).where(
            (c.session_id == session_id) & c.event_id.in_(ids)
        )
        now = datetime.now(UTC).replace(tzinfo=None)
        out: list[Appended] = []
        with self._lock, self.engine.begin() as conn:
            # The version row is locked first (PostgreSQL; SQLite has one writer anyway),
            # so a writer that read the same version waits here and then sees it moved:
            # the fence holds even when two workers append at the same instant.
            kept_version = conn.execute(
                select(versions_table.c.version)
                .where(versions_table.c.session_id == session_id)
                .with_for_update()
            ).scalar()
            if at is not None and (kept_version or 0) > at:
                raise Stale(session_id, at, int(kept_version or 0))
            top, top_seq, top_ts = conn.execute(latest).one()
            stored = {r.event_id: (r.arrival, r.text, r.data) for r in conn.execute(stored_q)}
            arrival = top or 0
            rows: list[dict[str, object]] = []
            for event in batch:
                kept = stored.get(event.event_id)
                if kept is not None:
                    same = kept[1] == event.text and json.loads(kept[2]) == event.data
                    out.append(Appended(duplicate=True, conflict=not same, arrival=kept[0]))
                    continue
                ts = event.ts.replace(tzinfo=None)
                if event.seq is not None:
                    late = top_seq is not None and top_seq > event.seq
                    top_seq = max(top_seq or 0, event.seq)
                else:
                    late = top_ts is not None and top_ts > ts
                top_ts = ts if top_ts is None else max(top_ts, ts)
                arrival += 1
                stored[event.event_id] = (arrival, event.text, json.dumps(event.data))
                out.append(Appended(duplicate=False, late=late, arrival=arrival))
                rows.append(
                    {
                        "session_id": session_id,
                        "event_id": event.event_id,
                        "arrival": arrival,
                        "seq": event.seq,
                        "ts": ts,
                        "type": event.type,
                        "speaker": event.speaker,
                        "channel": event.channel,
                        "text": event.text,
                        "data": json.dumps(event.data),
                        "received_at": now,
                    }
                )
            if any(a.conflict for a in out):
                return out  # nothing stored: the caller refuses the whole batch
            if rows:
                conn.execute(events_table.insert(), rows)
            if rows and at is not None:
                moved = 1 if any(a.late for a in out) else len(rows)
                _keep_version(conn, session_id, at + moved)
        return out

    def discard(self, session_id: str, event_ids: list[str]) -> None:
        """Take back events whose fold failed, so the log holds only what the panel shows."""
        c = events_table.c
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                events_table.delete().where(
                    (c.session_id == session_id) & c.event_id.in_(event_ids)
                )
            )

    def save_version(self, session_id: str, version: int) -> None:
        """A panel version reached without a new event (a rejection, the slow path)."""
        with self._lock, self.engine.begin() as conn:
            _keep_version(conn, session_id, version)

    def version(self, session_id: str) -> int:
        """The highest panel version this session has published; 0 when none was kept."""
        query = select(versions_table.c.version).where(versions_table.c.session_id == session_id)
        with self.engine.connect() as conn:
            found = conn.execute(query).scalar()
        return int(found or 0)

    def events(self, session_id: str) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events_table).where(events_table.c.session_id == session_id)
            ).all()
        return ordered([(_event(r._asdict()), r.arrival) for r in rows])

    def sessions(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(events_table.c.session_id).distinct())]


def _keep_version(conn: Connection, session_id: str, version: int) -> None:
    mine = versions_table.c.session_id == session_id
    raised = versions_table.update().where(mine & (versions_table.c.version < version))
    if conn.execute(raised.values(version=version)).rowcount == 0:
        exists = conn.execute(select(versions_table.c.version).where(mine)).first()
        if exists is None:
            conn.execute(versions_table.insert().values(session_id=session_id, version=version))


def _event(row: dict[str, object]) -> Event:
    # Naive UTC in the database; the Event validator gives it its zone back.
    fields = {
        k: row[k]
        for k in ("event_id", "session_id", "type", "speaker", "channel", "text", "ts", "seq")
    }
    return Event.model_validate({**fields, "data": json.loads(str(row["data"]))})
