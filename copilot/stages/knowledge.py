"""Knowledge for the conversation: the best passage of each of the top three articles."""

from __future__ import annotations

import asyncio
from typing import Any

from copilot.deps import EngineDeps
from copilot.events import Event
from copilot.session_state import Script, SessionState
from tools.errors import CopilotError
from tools.kb.query import ConversationQuery
from tools.kb.query import Turn as KbTurn
from tools.kb.retriever import Retriever

# Tuned on DSTC11 val (`copilot bench kb`): the blend ranks as well as embedding the joined query.
QUERY_WEIGHTS = (1.0, 0.3)  # newest customer turn first
REPLY_WEIGHT = 0.5  # the agent's last reply, which often names what "it" is


async def search(deps: EngineDeps, state: SessionState, event: Event) -> None:
    if deps.retriever is None:
        return
    intent = getattr(state.intent, "intent", None)
    names = state.entities.plans + state.entities.products
    query = ConversationQuery(
        turns=[KbTurn(speaker=t.speaker, text=t.text) for t in state.turns[-8:]],
        intent=intent,
        entities=names,
    )
    said = [t.event_id for t in reversed(state.customer_turns()[-len(QUERY_WEIGHTS) :])]
    weights = QUERY_WEIGHTS[: len(said)]
    replies = [t for t in state.turns if t.speaker in ("agent", "bot")]
    if replies:
        said.append(replies[-1].event_id)
        weights += (REPLY_WEIGHT,)
    blend = state.blend(said, weights)
    try:
        found = await asyncio.to_thread(deps.retriever.search, query, 8, query_vector=blend)
    except CopilotError:
        return
    best: dict[str, Any] = {}
    for hit in found.hits:
        best.setdefault(hit.citation.article_id, hit)
    found = found.model_copy(update={"hits": list(best.values())[:3]})
    if not found.hits and state.knowledge is not None and state.knowledge.hits:
        return  # "It's 402931" or "thanks" asks nothing new: keep the article on screen
    state.knowledge = found
    state.knowledge_event = event.event_id
    top = found.hits[0].citation.article_id if found.hits else None
    if top is not None and state.script_for != top:
        state.script = await asyncio.to_thread(find_script, deps.retriever, top)
        state.script_for = top


def find_script(retriever: Retriever, article_id: str) -> Script | None:
    """The article's lines to say, from the live index the search just read (its first chunk)."""
    name = retriever.store.active_name()
    if name is None:
        return None
    index = retriever.lexical_index(name)
    return next(
        (
            Script(article_id, chunk_id, str(meta.get("title", "")), str(meta["script"]))
            for chunk_id, meta in zip(index.ids, index.metadatas, strict=True)
            if meta.get("article_id") == article_id and meta.get("script")
        ),
        None,
    )
