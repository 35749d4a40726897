"""A session's copy in memory, read from its log: what a restore, a catch-up and a snapshot share.

The log (events, kept versions) and the action ledger are the truth; a copy is their fold. With
several workers a copy can fall behind, so it is read in an order that can only make it look
older than it is, never newer: an older-looking copy is read again, a newer-looking one would
hide another worker's change.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass, field

from copilot import stages
from copilot.deps import EngineDeps
from copilot.enricher import Enricher
from copilot.panel import Card, Panel, PanelUpdate
from copilot.session_state import SessionState
from copilot.stages import actions

__all__ = ["Live", "blank", "read", "whole_panel"]


@dataclass
class Live:
    state: SessionState
    panel: Panel = field(default_factory=Panel)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


def blank(deps: EngineDeps, session_id: str, previous: SessionState | None = None) -> SessionState:
    """A session's state before its first event: its tenant's window and its proposals."""
    state = SessionState(session_id=session_id)
    tenant = deps.tenant_of(session_id) if deps.tenant_of else None
    state.window = deps.policies.window(tenant)
    if previous is not None:  # a late event refolds the log; decisions and notes stay
        state.proposals, state.llm = previous.proposals, previous.llm
    elif deps.actions is not None:
        state.proposals = {p.action_id: p for p in deps.actions.session(session_id)}
    return state


async def read(
    deps: EngineDeps,
    enricher: Enricher | None,
    cards_of: Callable[[SessionState], list[Card]],
    session_id: str,
) -> tuple[Live, str | None]:
    """The session as its log has it (and its last event's id), not registered or published."""
    # The version first: a decision another worker makes while this reads must leave the copy
    # looking older than it is (it is read again), never newer than what it holds.
    kept = deps.store.version(session_id)
    live = Live(blank(deps, session_id))
    for proposal in live.state.proposals.values():
        await actions.preview(deps, proposal, live.state)
    if enricher is not None:
        enricher.restore(live.state)
    history = deps.store.events(session_id)
    for past in history:
        await stages.fold(deps, live.state, past, past.text)
    if history:  # a restored session's cards are already on the agent's screen
        await stages.restored(deps, live.state)
        live.panel.diff(cards_of(live.state))
    # Versions only grow: a rejection or the slow path moved it without a logged event.
    live.panel.version = max(len(history), kept)
    return live, history[-1].event_id if history else None


def whole_panel(live: Live, last: str | None) -> PanelUpdate | None:
    """The whole panel as the log has it, at its version (None before the first event): a worker
    that stored an event and died before publishing its update leaves no subscriber behind; one
    that has it all already skips it by version."""
    if last is None:
        return None
    return PanelUpdate(
        session_id=live.state.session_id,
        version=live.panel.version,
        event_id=last,
        cards=list(live.panel.cards.values()),
        latency_ms=0.0,
        source="restore",
    )
