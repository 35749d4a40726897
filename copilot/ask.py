"""The agent's own question to the copilot, and the answer it gets with no model."""

from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import BaseModel, Field

from tools.errors import InvalidInput
from tools.kb.retriever import Retriever

MAX_QUESTION = 1000


class AskResult(BaseModel):
    """The copilot's answer to an agent's question, or the best passage when the model cannot."""

    status: Literal["ok", "offline", "fallback"]
    answer: str | None
    citations: list[str] = Field(default_factory=list)
    reason: str | None = None
    prompt: str | None = None
    tokens: int = 0


def check_question(question: str) -> str:
    text = " ".join(question.split())
    if not text:
        raise InvalidInput("question", "is empty")
    if len(text) > MAX_QUESTION:
        raise InvalidInput("question", f"is longer than {MAX_QUESTION} characters")
    return text


async def offline_answer(retriever: Retriever | None, question: str) -> AskResult:
    """The best knowledge passage for the question: what the copilot can say with no model."""
    if retriever is None:
        return AskResult(status="offline", answer=None, reason="no knowledge base configured")
    result = await asyncio.to_thread(retriever.search, question, 1)
    if not result.hits:
        return AskResult(status="offline", answer=None, reason=result.reason or "nothing found")
    hit = result.hits[0]
    return AskResult(
        status="offline",
        answer=f"{hit.citation.title}: {hit.citation.snippet}",
        citations=[hit.chunk_id],
    )
