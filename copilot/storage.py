"""The copilot's own small databases (session log, offer ledger): one way to open them."""

from __future__ import annotations

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
