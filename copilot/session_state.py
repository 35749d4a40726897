"""What the engine knows about one conversation, folded from its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import numpy as np

from copilot.entities import Entities
from copilot.events import Event
from copilot.handoff import Provided, VerificationState
from copilot.llm.notes import LlmNotes
from copilot.offers import OfferDecision, OfferHistory
from copilot.playbooks import Progress, Step
from copilot.storage import aware_utc
from copilot.touchpoints import Touchpoint
from copilot.verification import Check, unbound_text, verification_state
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

    def read(self, text: str, vector: Any = None) -> Any: ...

    def update(self, event_id: str, text: str, reading: Any = None, vector: Any = None) -> Any: ...


def blend(vectors: list[Any], weights: tuple[float, ...]) -> Any:
    """Weighted mean of unit vectors, normalized again: a stand-in for embedding joined text."""
    total = sum(w * np.asarray(v) for v, w in zip(vectors, weights, strict=False))
    norm = float(np.linalg.norm(total))
    return total / norm if norm else None


# Identifiers a channel can send with a check: the contact the check was made for.
CONTACT_KEYS = ("phone", "email", "account", "order", "customer_id")


@dataclass(frozen=True)
class Foreign:
    """An identifier typed in this conversation that belongs to another customer."""

    kind: str
    masked: str
    event_id: str


@dataclass(frozen=True)
class Script:
    """An article's customer script passage: what a reply draft is filled from."""

    article_id: str
    chunk_id: str
    title: str
    text: str


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
    retry_after: datetime | None = None  # a system was down: ask it again from then on
    view: Customer360 | None = None
    intent: Any = None
    intent_event: str | None = None
    mood: Any = None
    mood_follower: MoodFollower | None = None
    knowledge: SearchResult | None = None
    knowledge_event: str | None = None
    script: Script | None = None  # the top article's customer script, when it has one
    script_for: str | None = None  # the article that script was looked up for
    actions: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    verifications: list[Check] = field(default_factory=list)  # this conversation's checks
    events_seen: int = 0
    playbook_intent: str | None = None
    progress: Progress | None = None
    escalation: Step | None = None  # while the escalation alert is on
    offer: OfferDecision | None = None
    offer_history: OfferHistory = field(default_factory=lambda: OfferHistory(session_id=""))
    vectors: dict[str, Any] = field(default_factory=dict)  # recent customer turns' embeddings
    llm: LlmNotes = field(default_factory=LlmNotes)
    proposals: dict[str, Any] = field(default_factory=dict)  # action id -> actions.Proposal
    now: datetime | None = None  # the conversation's clock: the newest event's time
    started: datetime | None = None  # the oldest event's time
    window: timedelta = timedelta(minutes=15)  # how long a verification holds (tenant policy)
    handoff: dict[str, Any] | None = None  # what a bot handed over (metadata handoff_from)
    carried: list[Check] = field(default_factory=list)  # checks from other contacts
    other_sessions: list[Touchpoint] = field(default_factory=list)
    provided: dict[str, Provided] = field(default_factory=dict)  # field -> first time given
    repeat: tuple[Provided, str] | None = None  # what the agent's last line asked for again
    touchpoint_key: str = ""  # what was last written to the touchpoint log
    checked: set[str] = field(default_factory=set)  # typed identifiers already looked up
    foreign: list[Foreign] = field(default_factory=list)  # someone else's, never loaded
    opened: dict[str, str] = field(default_factory=dict)  # facts when the playbook opened
    opened_for: str | None = None  # the playbook those facts opened
    payment_method: str | None = None  # the secure form's token for a new payment method

    @property
    def drill(self) -> frozenset[str]:
        """Systems this session plays as down (metadata `drill: {unavailable: [...]}`), as a
        scenario's outage is played in the console; no other session sees them down."""
        drill = self.metadata.get("drill")
        down = drill.get("unavailable") if isinstance(drill, dict) else None
        if not isinstance(down, list):
            return frozenset()
        return frozenset(s for s in down if s in ("crm", "billing", "orders"))

    def remember_vector(self, event_id: str, vector: Any, keep: int = 6) -> None:
        self.vectors[event_id] = vector
        while len(self.vectors) > keep:  # older turns no longer feed any query
            del self.vectors[next(iter(self.vectors))]

    def blend(self, event_ids: list[str], weights: tuple[float, ...]) -> Any:
        """Weighted, re-normalized mean of the given turns' vectors; None if any is missing."""
        if not event_ids or any(e not in self.vectors for e in event_ids):
            return None
        return blend([self.vectors[e] for e in event_ids], weights)

    @property
    def customer_id(self) -> str | None:
        """The identified customer (matched), if any."""
        who = self.identity
        return who.customer_id if who is not None and who.status == "matched" else None

    def checks(self) -> list[Check]:
        """The identified customer's checks in this conversation, then those carried from
        other contacts; a check made for somebody else, or for nobody named, is not theirs."""
        me = self.customer_id
        own = [c for c in self.verifications if me is not None and c.subject == me]
        return own + self.carried

    def bind(self, customer_id: str, applies: Callable[[Check], bool]) -> None:
        """Checks made before anyone was identified, those that applies() says were made for
        customer_id, are theirs from now on."""
        self.verifications = [
            c.bound(customer_id) if c.subject is None and applies(c) else c
            for c in self.verifications
        ]

    def verification(self) -> VerificationState:
        """Whether the customer counts as verified at the conversation's clock."""
        now = self.now or datetime.now(UTC)
        state = verification_state(self.checks(), now, self.window)
        if state.status != "none":
            return state
        pending = [c for c in self.verifications if c.subject is None and c.at <= now]
        if not pending:
            return state
        last = max(pending, key=lambda c: c.at)
        return state.model_copy(update={"text": unbound_text(last, self.customer_id is not None)})

    def customer_turns(self) -> list[Turn]:
        return [t for t in self.turns if t.speaker == "customer"]

    def record(self, event: Event) -> None:
        """The bookkeeping every event gets, whatever the engine does with it after."""
        self.events_seen += 1
        self.now = event.ts if self.now is None else max(self.now, event.ts)
        self.started = event.ts if self.started is None else min(self.started, event.ts)
        if not self.channels or self.channels[-1][0] != event.channel:
            self.channels.append((event.channel, event.event_id))
        if event.type == "utterance" and event.text.strip():
            self.turns.append(Turn(event.event_id, event.speaker, event.channel, event.text))
        elif event.type == "metadata":
            self.metadata.update(event.data)
            if "handoff_from" in event.data:
                self.handoff = dict(event.data)
            if isinstance(event.data.get("payment_method"), str):
                self.payment_method = str(event.data["payment_method"])
            if "verified_by" in event.data:
                # A handoff says where and when the bot verified; a plain note means here and now.
                at = _when(event.data.get("verified_at")) or event.ts
                self.verifications.append(
                    Check(
                        method=str(event.data["verified_by"]),
                        channel=str(event.data.get("verified_channel") or event.channel),
                        at=at,
                        result=str(event.data.get("verified_result") or "passed"),
                        source=f"handoff from {event.data['handoff_from']}"
                        if "handoff_from" in event.data
                        else "this conversation",
                        subject=self.customer_id,
                        contact=tuple(k for k in CONTACT_KEYS if self.metadata.get(k)),
                    )
                )
        elif event.type == "action_result":
            self.actions.append((event.event_id, dict(event.data)))


def _when(value: object) -> datetime | None:
    """An ISO time from event data; None when absent or unreadable (the event's own time then)."""
    if not isinstance(value, str):
        return None
    try:
        at = datetime.fromisoformat(value)
    except ValueError:
        return None
    return aware_utc(at)
