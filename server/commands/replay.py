"""`copilot replay`: play a scenario through the engine and watch the panel fill.

With --json, stdout is JSON Lines for a pipe (`| jq`): one `panel_update` object per update,
then one `scenario_result`; the PASS/FAIL lines go to stderr.
"""

from __future__ import annotations

import asyncio
import json as jsonlib
import sys
import tempfile
from functools import partial
from pathlib import Path
from typing import Annotated

import typer
from rich.live import Live
from rich.markup import escape
from rich.table import Table

from copilot import scenario as scenarios
from copilot.events import Event
from copilot.panel import Card, PanelUpdate
from copilot.systems import private_copy, with_outage
from server.commands.common import console, err_console, fail, settings
from tools.errors import CopilotError


def _line(card: Card) -> str:
    d = card.data
    if card.type == "customer":
        return str(d.get("name") or d.get("message") or d.get("resolution"))
    if card.type == "intent":
        return f"{d.get('intent')} ({d.get('confidence')})"
    if card.type == "mood":
        current = d.get("current") or {}
        return f"{current.get('label')} {d.get('direction', '')} {d.get('reason', '')}"[:120]
    if card.type == "knowledge":
        hits = d.get("hits") or []
        return hits[0]["citation"]["title"] if hits else str(d.get("reason"))[:120]
    if card.type == "next_best_action":
        step = d.get("next") or {}
        return f"{step.get('title', 'nothing left to do')} | {d.get('reason', '')}"[:160]
    if card.type == "offer":
        offer = d.get("offer")
        return f"{offer['title']}: {d.get('why')}"[:160] if offer else f"none: {d.get('held_back')}"
    if card.type == "summary":
        return str(d.get("prose"))[:160]
    return str(d.get("message") or d)[:120]


def _table(cards: dict[str, Card], caption: str) -> Table:
    table = Table("card", "v", "status", "what it says", caption=caption, expand=True)
    for card in cards.values():
        table.add_row(card.id, str(card.version), card.status, _line(card))
    return table


def replay(
    path: Annotated[Path, typer.Argument(help="scenario YAML file")],
    json: Annotated[
        bool,
        typer.Option(
            "--json",
            help="JSON Lines on stdout: each PanelUpdate, then a scenario_result; "
            "PASS/FAIL on stderr",
        ),
    ] = False,
) -> None:
    """Play a scenario through the fast path; exits 1 when an expectation is not met."""
    try:
        scenario = scenarios.load(path)
        from copilot.runtime import build_engine

        scratch = Path(tempfile.mkdtemp(prefix="replay-"))
        given = settings()
        if scenario.writes:
            # Approvals write to the systems: play on a copy, the data stays as it was.
            given = private_copy(given, scratch / "data") or given
        engine = build_engine(given, f"sqlite:///{scratch / 'sessions.db'}")
        engine.deps.systems = with_outage(engine.deps.systems, list(scenario.unavailable))
    except CopilotError as exc:
        raise fail(exc.message) from None
    cards: dict[str, Card] = {}

    def show(live: Live | None, event: Event, update: PanelUpdate) -> None:
        cards.update({c.id: c for c in update.cards})
        if json:
            _emit(update.model_dump_json())
        elif live is not None:
            live.update(_table(cards, f"{event.speaker}: {event.text[:80]}"))

    session = f"replay-{scenario.name}"
    if json:
        result = asyncio.run(scenarios.play(engine, scenario, session, partial(show, None)))
    else:
        with Live(_table(cards, scenario.name), console=console, refresh_per_second=8) as live:
            result = asyncio.run(scenarios.play(engine, scenario, session, partial(show, live)))
    failures = scenarios.check(scenario, result)
    if json:
        verdict = {
            "type": "scenario_result",
            "scenario": scenario.name,
            "passed": not failures,
            "failures": failures,
            "updates": len(result.updates),
        }
        _emit(jsonlib.dumps(verdict))
    said = err_console if json else console
    if failures:
        for line in failures:
            said.print(f"[red]FAIL[/] {escape(line)}", highlight=False, soft_wrap=True)
        raise typer.Exit(1)
    said.print(f"[green]PASS[/] {escape(scenario.name)}: {len(result.updates)} updates")


def _emit(line: str) -> None:
    """One JSON object on one line of stdout, flushed, so a pipe sees each as it happens."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()
