"""What every command shares: the console, settings, and turning errors into clear messages."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Coroutine
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.console import Console
from rich.markup import escape

from copilot.settings import Settings, load_settings
from tools.errors import CopilotError

T = TypeVar("T")
console = Console()
err_console = Console(stderr=True)

# The options of the commands that train a model on a tenant's CSV, and of those that try it.
ModelOut = Annotated[Path, typer.Option(help="folder to write the model to")]
Source = Annotated[str, typer.Option(help="where the rows come from (kept in the manifest)")]
Licence = Annotated[str, typer.Option(help="the rows' licence (kept in the manifest)")]
Said = Annotated[str, typer.Argument(help="what the customer said")]
ModelFolder = Annotated[Path | None, typer.Option(help="model folder (default: the shipped model)")]
AsJson = Annotated[bool, typer.Option("--json", help="print JSON")]


def fail(message: str, code: int = 2) -> typer.Exit:
    """Print a one-line error (never a stack trace) and give the exit to raise."""
    # Escaped: a message quoting user input must not be read as markup; one line, unwrapped.
    err_console.print(f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True)
    return typer.Exit(code)


def hide_password(url: str) -> str:
    """A URL as typed, with its password (if it has one) shown as ***; parses nothing, so it
    is safe on a URL too broken to parse."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", url)


def settings() -> Settings:
    try:
        return load_settings()
    except CopilotError as exc:
        raise fail(exc.message) from None


def run(coro: Coroutine[object, object, T]) -> T:
    """Run a coroutine, turning the project's errors into a message and exit code 2."""
    try:
        return asyncio.run(coro)
    except CopilotError as exc:
        raise fail(exc.message) from None
