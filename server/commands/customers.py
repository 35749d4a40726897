"""`copilot customers`: resolve who a customer is and show their unified view."""

from __future__ import annotations

from typing import Annotated

import typer

from copilot.systems import build_systems
from server.commands.common import console, fail, run, settings
from server.commands.render import render_360, render_resolution
from tools import identifiers
from tools.errors import CopilotError
from tools.identity import IdentityQuery, Resolution, normalize, resolve
from tools.view import Customer360, customer_360

app = typer.Typer(help="Find customers across the silos and show their unified view.")

Opt = Annotated[str | None, typer.Option()]


@app.command("resolve")
def resolve_cmd(
    phone: Annotated[str | None, typer.Option(help="any common format")] = None,
    email: Annotated[str | None, typer.Option(help="case does not matter")] = None,
    account: Annotated[str | None, typer.Option(help="billing account number, BA1234 5678")] = None,
    order: Annotated[str | None, typer.Option(help="order number, W... or S...")] = None,
    card_last4: Annotated[str | None, typer.Option(help="with --date and --amount")] = None,
    date: Annotated[str | None, typer.Option(help="purchase date YYYY-MM-DD (+/- 1 day)")] = None,
    amount: Annotated[str | None, typer.Option(help="purchase total")] = None,
    name: Annotated[
        str | None, typer.Option(help="first and last name, with --postal-code")
    ] = None,
    postal_code: Opt = None,
    social: Annotated[str | None, typer.Option(help="social handle, @name")] = None,
    json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Who is this? Candidates with match evidence; ambiguous stays ambiguous."""
    try:
        query = IdentityQuery(
            phone=phone,
            email=email,
            account=account,
            order=order,
            card_last4=card_last4,
            purchase_date=date,
            amount=amount,
            name=name,
            postal_code=postal_code,
            social=social,
        )
    except ValueError as exc:
        raise fail(str(exc)) from None

    try:
        normalize(query)
    except CopilotError as exc:
        raise fail(exc.message) from None

    async def go() -> Resolution:
        return await resolve(build_systems(settings()), query)

    result = run(go())
    if json:
        console.print_json(result.model_dump_json())
    else:
        render_resolution(console, result)
    if result.status != "matched":
        raise typer.Exit(1)


@app.command("show")
def show_cmd(
    customer_id: Annotated[str, typer.Argument(help="CRM customer id, CUS-1234567")],
    json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """The unified view: profile, billing, orders and the cross-channel timeline."""
    try:
        cid = identifiers.customer_id(customer_id)
    except CopilotError as exc:
        raise fail(exc.message) from None

    async def go() -> Customer360:
        return await customer_360(build_systems(settings()), cid)

    view = run(go())
    if json:
        console.print_json(view.model_dump_json())
    else:
        render_360(console, view)
