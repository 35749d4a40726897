"""The `copilot` command, an entry point above the domain: sub-commands live in server/commands;
evals plug in by entry point (server must not import evals)."""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

from server.commands import (
    customers,
    data,
    db,
    doctor,
    intents,
    kb,
    mood,
    replay,
    serve,
    systems,
)
from server.commands.common import err_console

app = typer.Typer(
    name="copilot",
    help="Agent-assist copilot for omnichannel customer service.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
app.add_typer(data.app, name="data")
app.add_typer(customers.app, name="customers")
app.add_typer(systems.app, name="systems")
app.add_typer(kb.app, name="kb")
app.add_typer(intents.app, name="intents")
app.add_typer(mood.app, name="mood")
app.add_typer(db.app, name="db")
app.command("serve")(serve.serve)
app.command("replay")(replay.replay)
app.command("doctor")(doctor.doctor)

# evals/ may use copilot but copilot must not import evals: it registers its commands itself.
for plugin in entry_points(group="server.commands"):
    try:
        app.add_typer(plugin.load(), name=plugin.name)
    except ImportError as exc:  # pragma: no cover - a broken optional plugin must not break the CLI
        err_console.print(f"[yellow]plugin {plugin.name} unavailable: {exc}[/]")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
