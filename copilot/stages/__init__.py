"""The fast path as stages, one module each, in the order `fold` runs them:

redact -> (record) -> identity -> signals -> knowledge -> playbook -> actions -> offers
-> touchpoints. Each reads the session's typed state and writes its own part of it; the card
builders (copilot.cards) read the result. The engine only orders, locks, persists, publishes.
"""

from __future__ import annotations

import asyncio

from copilot.deps import EngineDeps
from copilot.entities import extract
from copilot.events import Event
from copilot.session_state import SessionState
from copilot.stages import actions, identity, knowledge, offers, playbook, signals, touchpoints


async def fold(deps: EngineDeps, state: SessionState, event: Event, raw_text: str) -> None:
    """Update state with one (redacted) event. raw_text never leaves this call."""
    state.record(event)
    if event.type == "utterance" and raw_text:
        found = extract(raw_text, deps.today())
        if not found.is_empty():
            state.entities = state.entities.merge(found)
            if event.speaker == "customer":
                identity.note_provided(state, event, found)
    signals.provided(state, event)
    if event.type == "metadata" and "verified_contact" in event.data and state.view is not None:
        state.carried = identity.linked_checks(deps, state)  # a link named after the view loaded
    if event.type == "action_result":
        actions.settle(deps, state, event)
        if state.view is not None:  # re-read the system of record: did it really change?
            await identity.load_view(deps, state, state.view.customer_id)
    await identity.retry(deps, state)
    if signals.said(event):
        vector = await signals.embed(deps, state, event)
        signals.intent(deps, state, event)
        # Each reads its own inputs and writes its own part of the state, off the event loop or
        # waiting on I/O: the systems, retrieval and mood's tuned layers run side by side.
        reading, _, _ = await asyncio.gather(
            signals.mood_reading(deps, state, event, vector),
            identity.identify(deps, state, event),
            knowledge.search(deps, state, event),
        )
        signals.mood(deps, state, event, vector, reading)
    else:
        await identity.identify(deps, state, event)
    playbook.advance(deps, state)
    await actions.propose_next(deps, state)
    await offers.gate(deps, state, event)
    touchpoints.touch(deps, state)


async def restored(deps: EngineDeps, state: SessionState) -> None:
    """A session folded again from its log: what the log alone cannot say."""
    if state.view is None:
        await identity.recall(deps, state)
        if state.view is not None:
            playbook.advance(deps, state)


__all__ = ["fold", "restored"]
