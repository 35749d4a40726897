"""The retrieval query comes from the conversation, not only its last line."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAX_QUERY_CHARS = 2000


class Turn(BaseModel):
    speaker: Literal["customer", "agent", "bot", "system"]
    text: str = Field(max_length=10_000)


class ConversationQuery(BaseModel):
    """What the copilot knows when it looks for knowledge."""

    turns: list[Turn] = Field(max_length=500)
    intent: str | None = Field(None, max_length=100)
    entities: list[str] = Field(default_factory=list, max_length=50)


def build_query(conversation: ConversationQuery, customer_turns: int = 3) -> str:
    """Recent customer turns, newest first, then the agent's last reply, intent and entities.

    The newest turn carries the question; earlier ones and the agent's last words carry what
    it is about (the product, the order, the place) when the question itself says "it".
    """
    said = [
        t.text.strip() for t in conversation.turns if t.speaker == "customer" and t.text.strip()
    ]
    parts = list(reversed(said[-customer_turns:]))
    replies = [t.text.strip() for t in conversation.turns if t.speaker in ("agent", "bot")]
    if replies and conversation.turns and conversation.turns[-1].speaker == "customer":
        parts.append(replies[-1])
    if conversation.intent:
        parts.append(conversation.intent.replace("_", " "))
    parts.extend(conversation.entities)
    return " ".join(" ".join(parts).split())[:MAX_QUERY_CHARS]
