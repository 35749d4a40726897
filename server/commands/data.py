"""`copilot data`: build the demo company's siloed databases."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from server.commands.common import console, fail
from tools.demo import COMPANY
from tools.demo.generate import MAX_CUSTOMERS, Spec, generate, read_spec
from tools.errors import CopilotError

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


@app.command("load")
def load_cmd(
    crm_url: Annotated[str, typer.Option(help="SQLAlchemy URL, e.g. postgresql+psycopg://...")],
    billing_url: Annotated[str, typer.Option(help="SQLAlchemy URL of the billing database")],
    orders_url: Annotated[str, typer.Option(help="SQLAlchemy URL of the orders database")],
    data: Annotated[Path, typer.Option(help="folder of the generated SQLite files")] = Path(
        "var/data"
    ),
) -> None:
    """Copy the generated demo data into other databases (PostgreSQL), one transaction each."""
    from sqlalchemy.exc import SQLAlchemyError

    from tools.sql.copy import copy_system
    from tools.sql.engine import make_engine, sqlite_url

    urls = {"crm": crm_url, "billing": billing_url, "orders": orders_url}
    try:
        for system, url in urls.items():
            source = make_engine(sqlite_url(data, system))
            target = make_engine(url, must_exist=False)
            with console.status(f"copying {system}"):
                rows = copy_system(source, target, system)
            source.dispose()
            target.dispose()
            console.print(f"{system}: {rows:,} rows -> {target.url.render_as_string()}")
    except CopilotError as exc:
        raise fail(exc.message) from None
    except (SQLAlchemyError, ImportError) as exc:
        raise fail(
            f"could not load {system}: {type(exc).__name__}: {str(exc).splitlines()[0]}"
        ) from None
