"""The sessions database as one schema: every table the copilot keeps (the session log, panel
versions, the registry and feedback, touchpoints, handoffs, proposals, offers, LLM calls), and
its migrations (Alembic, in copilot/migrations).

The embedded default (SQLite beside the data folder) creates its tables when first opened. Any
other database (PostgreSQL: `COPILOT_SESSIONS_URL`) is migrated explicitly, once, before the
workers start: `copilot db upgrade` (which `copilot serve` also runs); a worker that finds the
schema missing or behind says so instead of failing on its first query.
"""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import MetaData, create_engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from copilot import actions, event_log, handoff_intake, session_registry, touchpoints
from copilot.llm import ledger
from copilot.offers import ledger as offers_ledger
from copilot.storage import embedded
from tools.errors import ConfigurationError

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
SCHEMA: tuple[MetaData, ...] = (
    event_log.metadata,
    session_registry.metadata,
    touchpoints.metadata,
    handoff_intake.metadata,
    actions.metadata,
    offers_ledger.metadata,
    ledger.metadata,
)


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return config


def head() -> str:
    found = ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
    if found is None:
        raise ConfigurationError(f"{MIGRATIONS} has no revision")
    return found


def current(url: str) -> str | None:
    """The revision the database is at; None when it was never migrated."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade(url: str) -> tuple[str | None, str]:
    """Migrate to the newest revision; (from, to). A database whose tables an older copilot
    created without migrations (the embedded default) is recorded at the baseline first."""
    before = current(url)
    config = alembic_config(url)
    if before is None and _has_tables(url):
        command.stamp(config, BASELINE)
        before = BASELINE
    command.upgrade(config, "head")
    return before, head()


def require_current(url: str) -> None:
    """A migrated database must be at the newest revision before a worker uses it."""
    if embedded(url):
        return
    try:
        at = current(url)
    except SQLAlchemyError as exc:
        raise ConfigurationError(f"cannot open the sessions database: {reason(exc)}") from None
    newest = head()
    if at != newest:
        raise ConfigurationError(
            f"the sessions database is at revision {at or 'none'}, this copilot needs {newest}: "
            "run `copilot db upgrade`"
        )


def reason(exc: Exception) -> str:
    return str(getattr(exc, "orig", None) or exc).strip().splitlines()[0][:200]


def _has_tables(url: str) -> bool:
    engine = create_engine(url)
    try:
        names = set(inspect(engine).get_table_names())
    finally:
        engine.dispose()
    return any(t in names for m in SCHEMA for t in m.tables)


BASELINE = "0001"
