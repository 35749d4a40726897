"""What the engine knows about one conversation, folded from its events."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from copilot.entities import Entities
from copilot.events import Event
from copilot.llm.notes import LlmNotes
from copilot.offers import OfferDecision, OfferHistory
from copilot.playbooks import Progress, Step
from tools.identity import Resolution
from tools.kb.models import SearchResult
from tools.view import Customer360


class IntentGuess(Protocol):
    intent: str
    confidence: float


class IntentPredictor(Protocol):
    """Anything that labels utterances with intents (copilot.intent.IntentModel)."""

    def predict(
        self, texts: list[str], threshold: float | None = None, vectors: Any = None
    ) -> list[Any]: ...


class MoodFollower(Protocol):
    """Follows one conversation's mood (copilot.mood.MoodTracker)."""

    def update(self, event_id: str, text: str, reading: Any = None, vector: Any = None) -> Any: ...


def blend(vectors: list[Any], weights: tuple[float, ...]) -> Any:
    """Weighted mean of unit vectors, normalized again: a stand-in for embedding joined text."""
    total = sum(w * np.asarray(v) for v, w in zip(vectors, weights, strict=False))
    norm = float(np.linalg.norm(total))
    return total / norm if norm else None


@dataclass
class Turn:
    event_id: str
    speaker: str
    channel: str
    text: str


@dataclass
class SessionState:
    session_id: str
    turns: list[Turn] = field(default_factory=list)
    channels: list[tuple[str, str]] = field(default_factory=list)  # (channel, first event id)
    entities: Entities = field(default_factory=Entities)
    metadata: dict[str, Any] = field(default_factory=dict)
    identity: Resolution | None = None
    identity_key: str = ""
    identity_events: list[str] = field(default_factory=list)
    view: Customer360 | None = None
    intent: Any = None
    intent_event: str | None = None
    mood: Any = None
    mood_follower: MoodFollower | None = None
    knowledge: SearchResult | None = None
    knowledge_event: str | None = None
    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    verifications: list[dict[str, Any]] = field(default_factory=list)
    events_seen: int = 0
    playbook_intent: str | None = None
    progress: Progress | None = None
    escalation: Step | None = None  # while the escalation alert is on
    offer: OfferDecision | None = None
    offer_history: OfferHistory = field(default_factory=lambda: OfferHistory(session_id=""))
    vectors: dict[str, Any] = field(default_factory=dict)  # recent customer turns' embeddings
    llm: LlmNotes = field(default_factory=LlmNotes)
    proposals: dict[str, Any] = field(default_factory=dict)  # action id -> actions.Proposal

    def remember_vector(self, event_id: str, vector: Any, keep: int = 6) -> None:
        self.vectors[event_id] = vector
        while len(self.vectors) > keep:  # older turns no longer feed any query
            del self.vectors[next(iter(self.vectors))]

    def blend(self, event_ids: list[str], weights: tuple[float, ...]) -> Any:
        """Weighted, re-normalized mean of the given turns' vectors; None if any is missing."""
        if not event_ids or any(e not in self.vectors for e in event_ids):
            return None
        return blend([self.vectors[e] for e in event_ids], weights)

    def customer_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker == "customer"]

    def record(self, event: Event) -> None:
        """The bookkeeping every event gets, whatever the engine does with it after."""
        self.events_seen += 1
        if not self.channels or self.channels[-1][0] != event.channel:
            self.channels.append((event.channel, event.event_id))
        if event.type == "utterance" and event.text.strip():
            self.turns.append(Turn(event.event_id, event.speaker, event.channel, event.text))
        elif event.type == "metadata":
            self.metadata.update(event.data)
            if "verified_by" in event.data:
                self.verifications.append(
                    {
                        "method": event.data["verified_by"],
                        "channel": event.channel,
                        "at": event.ts.isoformat(),
                        "event": event.event_id,
                    }
                )
        elif event.type == "action_result":
            self.actions.append((event.event_id, dict(event.data)))
