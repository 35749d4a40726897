"""`copilot db`: the sessions database's schema (Alembic migrations in copilot/migrations)."""

from __future__ import annotations

import typer
from sqlalchemy.exc import SQLAlchemyError

from copilot import sessions_db
from copilot.storage import embedded
from server.commands.common import console, fail, settings

app = typer.Typer(help="The sessions database: migrate it, see its revision.", no_args_is_help=True)


@app.command("upgrade")
def upgrade() -> None:
    """Migrate COPILOT_SESSIONS_URL (or the embedded SQLite file) to the newest revision."""
    url = settings().sessions_database()
    try:
        before, after = sessions_db.upgrade(url)
    except SQLAlchemyError as exc:
        raise fail(f"cannot migrate the sessions database: {sessions_db.reason(exc)}") from None
    moved = "already at" if before == after else f"{before or 'empty'} ->"
    console.print(f"sessions database {moved} {after}", highlight=False)


@app.command("status")
def status() -> None:
    """The revision the sessions database is at, beside the newest this copilot has."""
    url = settings().sessions_database()
    try:
        at = sessions_db.current(url)
    except SQLAlchemyError as exc:
        raise fail(f"cannot open the sessions database: {sessions_db.reason(exc)}") from None
    newest = sessions_db.head()
    console.print(f"at {at or 'none'}, newest {newest}", highlight=False)
    if at != newest and not embedded(url):
        raise fail("run `copilot db upgrade`", code=1)
