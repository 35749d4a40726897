"""The copilot's own small databases (session log, offer ledger): one way to open them.

Times are stored as naive UTC (SQLite keeps no zone); `naive_utc` writes them, `aware_utc` reads
them back. A naive time from anywhere else is taken as UTC too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, MetaData, create_engine
from sqlalchemy import event as sa_event


def open_database(url: str, metadata: MetaData) -> Engine:
    """An engine on url with metadata's tables created; SQLite files get WAL journaling."""
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url)
    if url.startswith("sqlite"):
        sa_event.listen(engine, "connect", _wal)
    metadata.create_all(engine)
    return engine


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
