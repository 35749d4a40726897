"""The copilot's own small databases (session log, offer ledger): one way to open them.

Times are stored as naive UTC (SQLite keeps no zone); `naive_utc` writes them, `aware_utc` reads
them back. A naive time from anywhere else is taken as UTC too.
"""

from __future__ import annotations

import atexit
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy import event as sa_event


def open_database(url: str, metadata: MetaData) -> Engine:
    """The engine on url, one per URL in a process (so the stores on one database share one
    connection pool). An embedded SQLite file gets its tables made here (and WAL journaling);
    any other database is migrated once by `copilot db upgrade` (copilot.sessions_db), never by
    each worker that opens it."""
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            if url.startswith("sqlite:///"):
                Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
            engine = _engines[url] = create_engine(url, pool_pre_ping=not embedded(url))
            if embedded(url):
                sa_event.listen(engine, "connect", _wal)
        if embedded(url):  # every time: the file may be new (cheap: it checks before it makes)
            metadata.create_all(engine)
    return engine


_engines: dict[str, Engine] = {}
_lock = threading.Lock()


@atexit.register
def _close_all() -> None:
    for engine in _engines.values():
        engine.dispose()


def embedded(url: str) -> bool:
    return url.startswith("sqlite")


def _wal(dbapi_connection: Any, _record: Any) -> None:
    # WAL with NORMAL sync: a commit survives a process restart without an fsync per event.
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def naive_utc(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def aware_utc(at: datetime) -> datetime:
    return at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
