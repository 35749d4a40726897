"""`copilot data`: build the demo company's siloed databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from server.commands.common import console, fail, hide_password, settings
from tools.demo import COMPANY
from tools.demo.generate import MAX_CUSTOMERS, Spec, generate, read_spec
from tools.errors import CopilotError

if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.engine import URL

app = typer.Typer(help=f"Demo data: {COMPANY}'s CRM, billing and order systems.")


@app.command("generate")
def generate_cmd(
    customers: Annotated[
        int, typer.Option(help=f"generated customers, 1 to {MAX_CUSTOMERS:,}")
    ] = 5000,
    seed: Annotated[int, typer.Option(help="same seed and date, same data")] = 42,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="the demo's 'today' (YYYY-MM-DD)")
    ] = None,
    out: Annotated[Path, typer.Option(help="folder for crm.db, billing.db, orders.db")] = Path(
        "var/data"
    ),
    if_stale: Annotated[
        bool, typer.Option("--if-stale", help="skip when out already holds this exact data")
    ] = False,
) -> None:
    """Generate the three silo databases deterministically from a seed, with the story customers."""
    try:
        day = date.fromisoformat(as_of) if as_of else date.today()
    except ValueError:
        raise fail(f"--as-of: expected a date as YYYY-MM-DD, got {as_of!r}") from None
    spec = Spec(customers=customers, seed=seed, as_of=day)
    try:
        spec.check()
    except CopilotError as exc:
        raise fail(exc.message) from None
    if if_stale and read_spec(out) == spec:
        console.print(f"{out} already holds {customers:,} customers for {day}; nothing to do")
        return
    columns = (
        TextColumn("{task.description:>8}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=False) as bar:
        tasks = {s: bar.add_task(s, total=customers) for s in ("crm", "billing", "orders")}
        report = generate(out, spec, lambda system, n: bar.advance(tasks[system], n))
    rows = sum(report.rows.values())
    console.print(
        f"{COMPANY}: {customers:,} customers, {rows:,} rows in {report.seconds:.1f} s "
        f"({customers / report.seconds:,.0f} customers/s) -> {out}"
    )


DataDir = Annotated[
    Path,
    typer.Option(
        "--data-dir",
        envvar="COPILOT_DATA_DIR",
        help="folder of the generated SQLite files (crm.db, billing.db, orders.db)",
    ),
]
# `data load --data` before the flag took the name every other command uses; kept for scripts.
OldDataDir = Annotated[Path | None, typer.Option("--data", hidden=True)]
EXAMPLE_URL = "postgresql+psycopg://user:password@host:5432/crm"


def _target(option: str, raw: str) -> URL:
    """The URL given to option, parsed and with its driver installed; else a one-line error."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    shown = hide_password(raw)
    try:
        url = make_url(raw)
    except (ArgumentError, ValueError):
        raise fail(
            f"{option}: {shown!r} is not a database URL; expected one like {EXAMPLE_URL}"
        ) from None
    try:
        url.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise fail(
            f"{option}: {url.render_as_string()} names no database SQLAlchemy knows "
            f"({url.drivername!r}); expected one like {EXAMPLE_URL}"
        ) from None
    except ImportError as exc:
        raise fail(
            f"{option}: the driver for {url.drivername} is not installed ({exc.name or exc})"
        ) from None
    return url


@app.command("load")
def load_cmd(
    crm_url: Annotated[str, typer.Option(help=f"SQLAlchemy URL, e.g. {EXAMPLE_URL}")],
    billing_url: Annotated[str, typer.Option(help="SQLAlchemy URL of the billing database")],
    orders_url: Annotated[str, typer.Option(help="SQLAlchemy URL of the orders database")],
    data_dir: DataDir = Path("var/data"),
    data: OldDataDir = None,
) -> None:
    """Copy the generated demo data into other databases (PostgreSQL), one transaction each."""
    from sqlalchemy.exc import SQLAlchemyError

    from tools.sql.copy import copy_system
    from tools.sql.engine import make_engine, sqlite_url

    folder = data if data is not None else data_dir
    # Every URL and source file is checked before anything is written anywhere.
    given = {"crm": crm_url, "billing": billing_url, "orders": orders_url}
    urls = {system: _target(f"--{system}-url", url) for system, url in given.items()}
    try:
        sources = {system: make_engine(sqlite_url(folder, system)) for system in urls}
    except CopilotError as exc:
        raise fail(exc.message) from None
    targets: dict[str, Engine] = {}
    system = ""
    try:
        for system, url in urls.items():
            targets[system] = make_engine(url.render_as_string(False), must_exist=False)
            with targets[system].connect():
                pass  # each answers before any is written
        for system, target in targets.items():
            with console.status(f"copying {system}"):
                rows = copy_system(sources[system], target, system)
            console.print(f"{system}: {rows:,} rows -> {target.url.render_as_string()}")
    except CopilotError as exc:
        raise fail(exc.message) from None
    except (SQLAlchemyError, ImportError) as exc:
        raise fail(
            f"could not load {system} into {urls[system].render_as_string()}: "
            f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
    finally:
        for engine in [*sources.values(), *targets.values()]:
            engine.dispose()


@app.command("reset")
def reset_cmd(
    data_dir: DataDir = Path("var/data"),
    check: Annotated[
        bool, typer.Option("--check", help="only say whether the stories changed; exit 1 if so")
    ] = False,
) -> None:
    """Put the story customers (Margaret, Daniel, ...) back as their stories tell them.

    Approvals in the demo write to the systems; this restores only the rows the stories own,
    in one transaction per database, and leaves every generated customer as it is. The
    databases are those the copilot reads: COPILOT_*_DB_URL where set, else DATA_DIR's files.
    """
    from sqlalchemy.exc import SQLAlchemyError

    from tools.demo.reset import reset_stories
    from tools.sql.engine import make_engine, sqlite_url

    conf = settings()
    urls = {
        "crm": conf.crm_db_url,
        "billing": conf.billing_db_url,
        "orders": conf.orders_db_url,
    }
    engines = {}
    try:
        for system, url in urls.items():
            engines[system] = make_engine(url or sqlite_url(data_dir, system))
        done = reset_stories(engines, check_only=check)
    except CopilotError as exc:
        raise fail(exc.message) from None
    except SQLAlchemyError as exc:  # e.g. a database another process holds locked
        first = str(exc).splitlines()[0]
        raise fail(f"nothing more was reset: {type(exc).__name__}: {first}") from None
    finally:
        for engine in engines.values():
            engine.dispose()
    where = ", ".join(f"{s}: {', '.join(t)}" for s, t in done.changed.items() if t)
    if not done.restored:
        console.print(f"the story customers are as their stories tell (dated {done.as_of})")
    elif check:
        console.print(f"the story customers changed ({where}); `copilot data reset` restores them")
        raise typer.Exit(1)
    else:
        console.print(f"restored the story customers (dated {done.as_of}): {where}")
