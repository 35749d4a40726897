"""Signals from what the customer says: one embedding, then intent, mood and what they gave."""

from __future__ import annotations

import asyncio
from typing import Any

import numpy as np

from copilot.deps import EngineDeps
from copilot.events import Event
from copilot.extractive import clip
from copilot.handoff import Provided
from copilot.provided import asked, identity_item, provided_item
from copilot.session_state import MoodFollower, SessionState

# Vectors of the latest customer turns, newest first, stand in for embedding the joined text:
# one forward pass per utterance instead of three (intent, mood and the knowledge query).
INTENT_WEIGHTS = (1.0, 1.0)
ISSUE_CHARS = 120  # the reason for contact, as the customer first put it


def said(event: Event) -> bool:
    return event.type == "utterance" and event.speaker == "customer" and bool(event.text.strip())


def provided(state: SessionState, event: Event) -> None:
    """The reason for contact and what a bot collected: never to be asked again."""
    if said(event) and "issue" not in state.provided:
        state.provided["issue"] = provided_item(
            "issue", clip(event.text, ISSUE_CHARS), "customer", event.channel, event.event_id
        )
    if event.type == "utterance" and event.speaker == "agent":
        state.repeat = repeat(state, event)
    if event.type == "metadata" and "handoff_from" in event.data:
        bot = str(event.data["handoff_from"])
        details = event.data.get("details")
        for name, value in (details if isinstance(details, dict) else {}).items():
            state.provided.setdefault(
                str(name), provided_item(str(name), value, bot, event.channel, event.event_id)
            )


def repeat(state: SessionState, event: Event) -> tuple[Provided, str] | None:
    """What the agent's line asks for that the customer already gave, if anything."""
    for name in asked(event.text):
        item = (
            identity_item(state.verification()) if name == "identity" else state.provided.get(name)
        )
        if item is not None:
            return item, event.event_id
    return None


async def embed(deps: EngineDeps, state: SessionState, event: Event) -> Any:
    """Embed an utterance once; intent, mood and retrieval all reuse the vector."""
    if deps.batcher is None:
        return None
    ids, texts = [event.event_id], [event.text]
    replies = [t for t in state.turns if t.speaker in ("agent", "bot")]
    if deps.retriever and replies and replies[-1].event_id not in state.vectors:
        # The agent's last reply is embedded only when a customer turn needs it for the
        # knowledge query, in the same forward pass: half the model calls of a conversation.
        ids.append(replies[-1].event_id)
        texts.append(replies[-1].text)
    # Off the event loop, in a pass shared with other sessions' lines that arrive meanwhile.
    embedded = await deps.batcher.embed([" ".join(t.split()) for t in texts])
    for turn_id, row in zip(reversed(ids), reversed(embedded), strict=True):
        state.remember_vector(turn_id, np.asarray(row))
    return state.vectors[event.event_id]


async def mood_reading(deps: EngineDeps, state: SessionState, event: Event, vector: Any) -> Any:
    """The utterance's mood reading, made off the event loop: mood's tuned layers take a few
    milliseconds of CPU that other sessions' events need not wait behind."""
    follower = _follower(deps, state)
    return None if follower is None else await asyncio.to_thread(follower.read, event.text, vector)


def _follower(deps: EngineDeps, state: SessionState) -> MoodFollower | None:
    """The session's mood follower, made on its first customer turn; None without a mood model."""
    if deps.mood is not None and state.mood_follower is None:
        state.mood_follower = deps.mood()
    return state.mood_follower


def intent(deps: EngineDeps, state: SessionState, event: Event) -> None:
    """Intent over the last two customer turns (the knowledge query names it)."""
    if deps.intent is None:
        return
    recent = state.customer_turns()[-2:]
    blend = state.blend([t.event_id for t in recent], INTENT_WEIGHTS)
    state.intent = deps.intent.predict(
        [" ".join(t.text for t in recent)],
        vectors=None if blend is None else [blend],
    )[0]
    state.intent_event = event.event_id


def mood(deps: EngineDeps, state: SessionState, event: Event, vector: Any, reading: Any) -> None:
    """Mood over the conversation so far, from the reading mood_reading made."""
    follower = _follower(deps, state)
    if follower is not None:
        state.mood = follower.update(event.event_id, event.text, reading=reading, vector=vector)
