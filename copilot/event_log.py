"""The session log: ordered, idempotent, persisted to SQLite so a restart loses nothing.

Only redacted text is ever written here.
"""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime

from pydantic import BaseModel
from sqlalchemy import (
    Column,
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

metadata = MetaData()
events_table = Table(
    "events",
    metadata,
    Column("session_id", String(128), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("arrival", Integer, nullable=False),
    Column("seq", Integer),
    Column("ts", DateTime, nullable=False, doc="UTC"),
    Column("type", String(16), nullable=False),
    Column("speaker", String(16), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("text", Text, nullable=False),
    Column("data", Text, nullable=False),
    Column("received_at", DateTime, nullable=False, doc="UTC"),
    PrimaryKeyConstraint("session_id", "event_id"),
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


class SessionStore:
    """Append-only event log per session in SQLite (or any SQLAlchemy URL)."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def append(self, event: Event) -> Appended:
        """Store an already-redacted event; the same event_id again changes nothing."""
        c = events_table.c
        # One read for all the session's bookkeeping: where the event lands, and whether a stored
        # event belongs after it (then the caller folds the log again in order).
        latest = select(func.max(c.arrival), func.max(c.seq), func.max(c.ts)).where(
            c.session_id == event.session_id
        )
        ts = event.ts.replace(tzinfo=None)
        try:
            with self._lock, self.engine.begin() as conn:
                top, top_seq, top_ts = conn.execute(latest).one()
                arrival = (top or 0) + 1
                conn.execute(
                    events_table.insert().values(
                        session_id=event.session_id,
                        event_id=event.event_id,
                        arrival=arrival,
                        seq=event.seq,
                        ts=ts,
                        type=event.type,
                        speaker=event.speaker,
                        channel=event.channel,
                        text=event.text,
                        data=json.dumps(event.data),
                        received_at=datetime.now(UTC).replace(tzinfo=None),
                    )
                )
        except IntegrityError:
            return self._duplicate(event)
        if event.seq is not None:
            late = top_seq is not None and top_seq > event.seq
        else:
            late = top_ts is not None and top_ts > ts
        return Appended(duplicate=False, late=late, arrival=arrival)

    def _duplicate(self, event: Event) -> Appended:
        """The event_id is stored already: the same event again, or a conflicting one."""
        key = (events_table.c.session_id == event.session_id) & (
            events_table.c.event_id == event.event_id
        )
        query = select(events_table.c.arrival, events_table.c.text, events_table.c.data)
        with self.engine.connect() as conn:
            existing = conn.execute(query.where(key)).one()
        same = existing.text == event.text and json.loads(existing.data) == event.data
        return Appended(duplicate=True, conflict=not same, arrival=existing.arrival)

    def events(self, session_id: str) -> list[Event]:
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(events_table).where(events_table.c.session_id == session_id)
            ).all()
        return ordered([(_event(r._asdict()), r.arrival) for r in rows])

    def sessions(self) -> list[str]:
        with self.engine.connect() as conn:
            return [r[0] for r in conn.execute(select(events_table.c.session_id).distinct())]


def _event(row: dict[str, object]) -> Event:
    # Naive UTC in the database; the Event validator gives it its zone back.
    fields = {
        k: row[k]
        for k in ("event_id", "session_id", "type", "speaker", "channel", "text", "ts", "seq")
    }
    return Event.model_validate({**fields, "data": json.loads(str(row["data"]))})
