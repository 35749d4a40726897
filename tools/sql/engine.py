"""Engines for the SQL backends: SQLite files by default, any SQLAlchemy URL (PostgreSQL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, select
from sqlalchemy.engine import Connection

from tools.errors import ConfigurationError
from tools.schema import METADATA

SYSTEM_NAMES = ("crm", "billing", "orders")


def sqlite_url(data_dir: Path, system: str) -> str:
    return f"sqlite:///{data_dir / f'{system}.db'}"


def make_engine(url: str, *, must_exist: bool = True) -> Engine:
    """An engine for one silo; SQLite files must already exist unless told otherwise."""
    if url.startswith("sqlite:///") and must_exist:
        path = Path(url.removeprefix("sqlite:///"))
        if not path.is_file():
            raise ConfigurationError(
                f"database {path} does not exist: run `copilot data generate` first "
                "or set COPILOT_DATA_DIR to a folder that holds crm.db, billing.db and orders.db"
            )
    engine = create_engine(url, pool_pre_ping=not url.startswith("sqlite"))
    if url.startswith("sqlite"):
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=5000")
    cursor.close()


def read_meta(conn: Connection, system: str) -> dict[str, str]:
    table = METADATA[system].tables["meta"]
    return {row.key: row.value for row in conn.execute(select(table))}


def without(data: dict[str, object], *keys: str) -> dict[str, object]:
    """A row's mapping less the columns that are storage details, not record fields."""
    return {key: value for key, value in data.items() if key not in keys}
