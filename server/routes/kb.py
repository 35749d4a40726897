"""Knowledge search: passages with citations, or nothing with the reason why."""

from __future__ import annotations

import asyncio
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from server.auth import Reader
from server.deps import DepsDep
from tools.kb.models import Filters, SearchResult
from tools.kb.query import ConversationQuery

router = APIRouter(prefix="/v1/kb", tags=["knowledge"])
Name = Annotated[str | None, Query(max_length=40, pattern=r"^[A-Za-z0-9_-]+$")]


@router.get("/search")
async def search(
    deps: DepsDep,
    who: Reader,
    q: Annotated[str, Query(max_length=2000, description="the question or conversation text")],
    k: Annotated[int, Query(ge=1, le=20)] = 5,
    product: Name = None,
    locale: Name = None,
    channel: Name = None,
    mode: Literal["hybrid", "dense", "lexical"] = "hybrid",
) -> SearchResult:
    """Hybrid search; `status` says whether the hits cleared the confidence floor."""
    filters = Filters(product=product, locale=locale, channel=channel)
    # Embedding and BM25 are CPU work: keep them off the event loop.
    return await asyncio.to_thread(deps.retriever().search, q, k, filters, mode)


@router.post("/query")
async def query(
    deps: DepsDep,
    conversation: ConversationQuery,
    who: Reader,
    k: Annotated[int, Query(ge=1, le=20)] = 5,
) -> SearchResult:
    """Search with a query built from the conversation: recent customer turns, intent, entities."""
    return await asyncio.to_thread(deps.retriever().search, conversation, k)
