"""What the side panel receives: versioned cards, each with the provenance it rests on."""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any, Literal

from pydantic import BaseModel, Field

CardType = Literal[
    "customer",
    "journey",
    "summary",
    "mood",
    "intent",
    "next_best_action",
    "offer",
    "knowledge",
    "reply_draft",
    "alert",
    "action",
]
SCHEMA_VERSION = "1"


class Provenance(BaseModel):
    events: list[str] = Field(default_factory=list, description="transcript event ids")
    tool_calls: list[str] = Field(default_factory=list, description="ToolCall ids")
    passages: list[str] = Field(default_factory=list, description="knowledge chunk ids")


class Card(BaseModel):
    type: CardType
    id: str
    version: int = 1
    status: Literal["ok", "empty", "degraded", "pending"] = "ok"
    data: dict[str, Any]
    provenance: Provenance = Field(default_factory=Provenance)

    def fingerprint(self) -> str:
        body = json.dumps([self.status, self.data], sort_keys=True, default=str)
        return hashlib.sha256(body.encode()).hexdigest()


class PanelUpdate(BaseModel):
    """Sent after every event that changed something: only the cards that changed."""

    type: Literal["panel_update"] = "panel_update"
    schema_version: str = SCHEMA_VERSION
    session_id: str
    version: int = Field(description="increases by one with every update of this session")
    event_id: str = Field(description="the event that caused this update")
    cards: list[Card]
    latency_ms: float
    source: Literal["fast", "llm", "action", "restore"] = Field(
        "fast",
        description=(
            "fast: the offline engine; llm: the model's enrichment; action: an approval; "
            "restore: the whole panel as the log has it, after a worker read the session again"
        ),
    )


class TokenDelta(BaseModel):
    """Prose the model is writing, streamed before its card lands (the card is authoritative)."""

    type: Literal["token"] = "token"
    session_id: str
    event_id: str = Field(description="the event the model is answering")
    field: Literal["summary", "reply_draft", "answer"]
    text: str = Field(description="the characters added since the last delta")


class TranscriptLine(BaseModel):
    """A live call's words as they are spoken: partials while a turn is open, then its final,
    which is also the utterance event the panel updates from. Redacted like stored text."""

    type: Literal["transcript"] = "transcript"
    session_id: str
    speaker: Literal["customer", "agent"]
    utterance: int = Field(description="numbers a speaker's turns; a turn's partials share it")
    text: str
    final: bool
    start_s: float = Field(description="seconds into the call the turn began")
    end_s: float
    event_id: str | None = Field(None, description="the utterance event a final became")


StreamItem = Annotated[PanelUpdate | TokenDelta | TranscriptLine, Field(discriminator="type")]


class Panel:
    """The current cards of one session; `diff` bumps versions of changed cards only."""

    def __init__(self) -> None:
        self.cards: dict[str, Card] = {}
        self._prints: dict[str, str] = {}
        self.version = 0

    def diff(self, cards: list[Card]) -> list[Card]:
        changed = []
        for fresh in cards:
            mark = fresh.fingerprint()
            if self._prints.get(fresh.id) == mark:
                continue
            previous = self.cards.get(fresh.id)
            card = fresh.model_copy(update={"version": previous.version + 1 if previous else 1})
            self.cards[card.id] = card
            self._prints[card.id] = mark
            changed.append(card)
        fresh_ids = {c.id for c in cards}
        for gone in [i for i in self.cards if i not in fresh_ids]:
            # A card that no longer applies (an alert that passed) goes out once, cleared.
            old = self.cards.pop(gone)
            self._prints.pop(gone, None)
            changed.append(
                old.model_copy(
                    update={
                        "version": old.version + 1,
                        "status": "empty",
                        "data": {"cleared": True},
                    }
                )
            )
        return changed
