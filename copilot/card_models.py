"""The panel's published contract: one typed model per card type, and their union.

The card builders (copilot/cards.py, nba.py, summary.py, actions.py, llm/overlay.py) still
produce the loose `copilot.panel.Card`; `parse` checks one against these models. Every data
model forbids fields it does not know, so a builder that adds one fails the contract tests
until the model here or in `copilot.card_parts` (and so /schemas/card.json) says what it means.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from copilot.actions import ActionStatus
from copilot.card_parts import (
    Account,
    Candidate,
    ChannelSpan,
    Escalation,
    HandoffNote,
    KnowledgeHit,
    LlmNote,
    LlmUsage,
    MoodReading,
    NextStep,
    OfferShown,
    Origin,
    ProvidedItem,
    Purchase,
    SessionEntry,
    StepState,
    Strict,
    TimelineEntry,
    Verification,
)
from copilot.offers.gate import OfferStatus
from copilot.panel import Card, PanelUpdate, Provenance
from tools.actions import ActionRequest
from tools.identity import Identifier

CardStatus = Literal["ok", "empty", "degraded", "pending"]
D = TypeVar("D", bound=BaseModel)


class _Data(Strict):
    """Card data: what one card type shows."""


class Cleared(_Data):
    """The last update of a card that no longer applies (an alert that passed)."""

    cleared: Literal[True]


class CustomerData(_Data):
    """The unified profile across the systems (status degraded: some did not answer)."""

    customer_id: str
    name: str | None
    tier: str | None
    customer_since: date | None
    matched_by: list[Identifier]
    standing: Literal["verified", "identified, not verified", "unknown"] = Field(
        description="identified is not verified: who this is, in one phrase"
    )
    verification: Verification
    accounts: list[Account]
    open_orders: list[str] = Field(description="order numbers")
    recent_purchases: list[Purchase]
    degraded: list[str] = Field(description="'section: why' for each system that did not answer")
    sources: list[str] = Field(description="system.operation:outcome of every call behind it")


class CustomerPendingData(_Data):
    """Identifiers were given but do not name one customer yet."""

    resolution: Literal["matched", "ambiguous", "not_found"]
    message: str
    candidates: list[Candidate]
    sources: list[str]
    verification: Verification


class CustomerUnknownData(_Data):
    """No identifier yet."""

    message: str
    verification: Verification


class JourneyData(_Data):
    this_conversation: list[ChannelSpan]
    history: list[TimelineEntry] = Field(description="newest first, at most 10")
    sessions: list[SessionEntry]
    origin: Origin | None


class SummaryData(_Data):
    reason_for_contact: str | None
    customer_context: list[str]
    identified: str | None = Field(description="e.g. 'identified by phone'; not a verification")
    verified: list[str] = Field(description="the checks that passed, 'method on channel'")
    verification: str = Field(description="whether the customer counts as verified now")
    actions_taken: list[str]
    resolution_state: Literal["resolved", "open"]
    steps: str | None = Field(description="the playbook's step count, e.g. '2 of 5 steps done'")
    open_items: list[str]
    customer_words: list[str] = Field(description="the customer's longest lines, in order")
    channels: list[str]
    provided: list[ProvidedItem]
    handoff: HandoffNote | None
    prose: str
    extract: str = Field(description="the extractive summary of the transcript")
    prose_source: Literal["llm"] | None = Field(None, description="set when the model wrote prose")
    offline_prose: str | None = Field(None, description="the engine's prose the model's replaced")
    llm: LlmNote | None = None
    usage: LlmUsage | None = Field(None, description="the model's tokens and cost")


class MoodData(_Data):
    trend: list[float] = Field(description="per customer turn: smoothed polarity in [-1, 1]")
    current: MoodReading
    direction: Literal["improving", "steady", "worsening"]
    reason: str
    alert: bool
    alert_reason: str | None
    alert_raised: bool = Field(description="true only on the turn the alert switched on")
    risk: float = Field(ge=0.0, le=1.0)
    moved_by: str | None = Field(description="event id of the utterance quoted in reason")


class NoMoodData(_Data):
    """No customer line yet."""

    label: None


class IntentData(_Data):
    intent: str | None = Field(description="this line's intent; None before any customer line")
    confidence: float | None = None
    topic: str | None = Field(None, description="the conversation's topic (its playbook intent)")
    alternatives: list[tuple[str, float]] | None = None


class NextBestActionData(_Data):
    """The playbook's next step; without a playbook only next (None), reason and escalation."""

    next: NextStep | None
    reason: str
    intent: str | None = None
    playbook: str | None = None
    source: str | None = Field(None, description="the playbook set")
    blocked_by: list[str] = Field(default_factory=list, description="unmet preconditions")
    resolved: bool = False
    count: str | None = Field(None, description="e.g. '2 of 5 steps done'")
    unresolved: list[str] = Field(
        default_factory=list, description="why the conversation is not resolved yet, in words"
    )
    steps: list[StepState] = Field(default_factory=list)
    escalation: Escalation | None = None
    rationale: str | None = Field(None, description="the model's why-now for the next step")
    llm: LlmNote | None = None


class OfferData(_Data):
    offer: OfferShown | None
    held_back: str | None = Field(description="why no offer is shown")
    why: str | None = None
    answered: dict[str, OfferStatus] = Field(
        default_factory=dict, description="offers the customer accepted or dismissed"
    )
    pitch: str | None = Field(None, description="the model's words for the offer")
    llm: LlmNote | None = None


class KnowledgeData(_Data):
    """Retrieval for the customer's question; before one, only the reason."""

    reason: str
    status: Literal["answered", "below_floor", "no_match", "empty_index"] | None = None
    confidence: float | None = None
    hits: list[KnowledgeHit] = Field(default_factory=list)
    query: str | None = None
    cited: list[str] | None = Field(None, description="chunk ids the model's reply cites")
    llm: LlmNote | None = None


class ReplyDraftData(_Data):
    """The agent's next message: written by the model, else filled from the knowledge base."""

    text: str | None = Field(description="None when there is no draft that passes the policy")
    source: Literal["llm", "offline"] = Field(
        description="llm: written by the model; offline: the article's script, filled by the engine"
    )
    citations: list[str] = Field(default_factory=list, description="chunk ids")
    prompt: str | None = None
    reason: str | None = Field(None, description="why there is no draft")
    llm: LlmNote | None = Field(None, description="why the model's draft is not the one shown")


class AlertData(_Data):
    severity: Literal["warning", "high"]
    message: str
    candidates: list[str] | None = Field(None, description="customer ids (alert:identity)")
    field: str | None = Field(None, description="what was asked again (alert:repeat)")
    value: str | None = None
    source: str | None = None


class ActionData(_Data):
    action_id: str
    kind: str
    target: str = Field(description="e.g. 'account BA90000001'")
    request: ActionRequest
    why: str
    proposed_by: str
    status: ActionStatus
    needs_approval: bool = Field(description="proposed, and nothing blocks it")
    preview: str | None = Field(description="the system's own preview of what it would write")
    changes: dict[str, str] = Field(description="what would change, e.g. balance '82.84 → 67.84'")
    blocked: str | None = Field(description="why the system would refuse it now")
    decided_by: str | None
    decided_at: datetime | None
    result: str | None


class _Card(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    version: int = Field(ge=1)
    status: CardStatus
    provenance: Provenance


class CustomerCard(_Card):
    type: Literal["customer"]
    data: CustomerData | CustomerPendingData | CustomerUnknownData | Cleared


class JourneyCard(_Card):
    type: Literal["journey"]
    data: JourneyData | Cleared


class SummaryCard(_Card):
    type: Literal["summary"]
    data: SummaryData | Cleared


class MoodCard(_Card):
    type: Literal["mood"]
    data: MoodData | NoMoodData | Cleared


class IntentCard(_Card):
    type: Literal["intent"]
    data: IntentData | Cleared


class NextBestActionCard(_Card):
    type: Literal["next_best_action"]
    data: NextBestActionData | Cleared


class OfferCard(_Card):
    type: Literal["offer"]
    data: OfferData | Cleared


class KnowledgeCard(_Card):
    type: Literal["knowledge"]
    data: KnowledgeData | Cleared


class ReplyDraftCard(_Card):
    type: Literal["reply_draft"]
    data: ReplyDraftData | Cleared


class AlertCard(_Card):
    type: Literal["alert"]
    data: AlertData | Cleared


class ActionCard(_Card):
    type: Literal["action"]
    data: ActionData | Cleared


AnyCard = Annotated[
    CustomerCard
    | JourneyCard
    | SummaryCard
    | MoodCard
    | IntentCard
    | NextBestActionCard
    | OfferCard
    | KnowledgeCard
    | ReplyDraftCard
    | AlertCard
    | ActionCard,
    Field(discriminator="type"),
]
CARD: TypeAdapter[AnyCard] = TypeAdapter(AnyCard)
# The data the model's pass notes what it did on (`llm`).
LlmNoted = SummaryData | NextBestActionData | OfferData | KnowledgeData


class TypedPanelUpdate(PanelUpdate):
    """`copilot.panel.PanelUpdate` with every card typed: what /schemas/panel-update.json says."""

    model_config = ConfigDict(extra="forbid")

    cards: list[AnyCard]  # type: ignore[assignment]


def parse(card: Card) -> AnyCard:
    """The card as its typed model; ValidationError where it breaks the contract.

    It is read as it goes on the wire and as strictly as the JSON Schema: "2" is no version.
    """
    return CARD.validate_json(card.model_dump_json(), strict=True)


def parse_update(update: PanelUpdate) -> TypedPanelUpdate:
    """A panel update with every card typed, as strictly as `parse`."""
    return TypedPanelUpdate.model_validate_json(update.model_dump_json(), strict=True)


def data_of(card: Card | None, kind: type[D]) -> D | None:
    """The card's data when it has this shape; None for no card, a cleared one or another shape."""
    if card is None:
        return None
    data = parse(card).data
    return data if isinstance(data, kind) else None
