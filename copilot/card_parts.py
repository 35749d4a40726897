"""The pieces panel card data is made of: accounts, timeline entries, steps, hits, offers.

Each forbids fields it does not know, like the card data in `copilot.card_models`.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot import mood, mood_cues
from copilot.events import Channel
from copilot.handoff import Provided, VerificationState
from copilot.offers.catalogue import OfferKind
from copilot.offers.eligibility import SectionName
from tools import identity, view
from tools.kb import models as kb


class Strict(BaseModel):
    """Refuses fields it does not know."""

    model_config = ConfigDict(extra="forbid")


class LlmNote(Strict):
    """What the model's pass did to this card."""

    status: Literal["ok", "partial", "fallback", "rejected"]
    prompt: str | None = Field(description="name.vN of the prompt behind the text")
    reason: str | None = Field(None, description="why the model's text is not on the card")


# Parts the builders dump from the models that compute them: the same fields, and strict.


class Verification(VerificationState):
    model_config = Strict.model_config


class Evidence(identity.Evidence):
    model_config = Strict.model_config


class Candidate(identity.Candidate):
    model_config = Strict.model_config
    evidence: list[Evidence]  # type: ignore[assignment]


class PastDue(view.PastDue):
    model_config = Strict.model_config


class Autopay(view.AutopayState):
    model_config = Strict.model_config


class LineUsage(view.LineUsage):
    model_config = Strict.model_config


class Account(Strict):
    account_number: str
    balance: float
    past_due: PastDue | None
    autopay: Autopay
    usage: list[LineUsage]


class PurchasedItem(Strict):
    item_id: int
    name: str
    category: str
    return_until: date | None
    exchange_until: date | None
    eligible: bool
    receipt_required: bool
    policy: str


class Purchase(Strict):
    order: str = Field(description="order number")
    date: date
    total: float
    items: list[PurchasedItem]


class ChannelSpan(Strict):
    channel: Channel
    from_event: str


class TimelineEntry(view.TimelineEntry):
    model_config = Strict.model_config


class SessionEntry(Strict):
    """One of the customer's copilot sessions, this one first."""

    session_id: str
    channel: Channel | None
    started_at: datetime
    last_at: datetime
    intent: str | None
    verified: str | None = Field(description="how and where they were verified, if they were")
    current: bool


class Origin(Strict):
    """Where this contact came from: as the channel said, else the newest message we sent."""

    channel: str
    kind: str = Field(description="e.g. email_link, ivr_transfer; 'likely' when inferred")
    summary: str
    at: str | None = Field(description="ISO time of the record, else as the channel sent it")
    source: str


class ProvidedItem(Provided):
    model_config = Strict.model_config


class Attempt(Strict):
    """Something the bot already did: an action it ran, an article it showed, an answer."""

    kind: Literal["action", "article", "answer"]
    name: str
    outcome: str | None


class HandoffOrigin(Strict):
    channel: str
    kind: str
    reference: str | None
    at: datetime | None


class HandoffNote(Strict):
    """What the bot handed over (a handoff's metadata event)."""

    bot: str
    from_channel: str | None
    tried: list[Attempt]
    open_questions: list[str]
    origin: HandoffOrigin | None


class Tally(Strict):
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


class LlmUsage(Strict):
    turn: Tally
    conversation: Tally


class Cue(mood_cues.Cue):
    model_config = Strict.model_config


class MoodReading(mood.MoodReading):
    model_config = Strict.model_config
    cues: list[Cue]  # type: ignore[assignment]  # required on the card


class NextStep(Strict):
    step: str
    title: str
    say: str
    uses: str | None = Field(description="the tool or write action the step runs")
    waiting_for: list[str] = Field(description="inputs its action still needs, in words")


class StepState(Strict):
    id: str
    title: str
    status: Literal["done", "next", "open", "not_needed"]
    evidence: list[str] = Field(description="event ids that completed it")


class Escalation(Strict):
    """The escalation playbook's next step, beside the next action while the alert is on."""

    step: str
    title: str
    uses: str | None
    reason: str


class OfferPrice(Strict):
    amount: float
    per: Literal["month", "once"]


class OfferShown(Strict):
    offer_id: str
    title: str
    kind: OfferKind
    score: float
    why: str
    plan_code: str | None
    sku: str | None
    price: OfferPrice | None = None
    line_id: str | None
    sections: list[SectionName]
    evidence: list[str] = Field(description="ToolCall ids of the systems behind the offer")


class Citation(kb.Citation):
    model_config = Strict.model_config


class KnowledgeHit(Strict):
    citation: Citation
    chunk_id: str
