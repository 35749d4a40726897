"""What a bot hands a human: its request, and the HandoffPacket the agent's panel opens with.

The bot sends what it has (`HandoffRequest`): its transcript, who the customer is and how they were
verified, what it collected and tried, what is still open. Every field may be missing; what is
missing and could not be filled from the transcript is listed in the packet's `gaps`. The packet is
built from the human session after the copilot has read all of it, so the intent, mood and first
step are the copilot's own reading, not only the bot's claims.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from copilot.events import ID_PATTERN, MAX_DATA, MAX_TEXT, Channel, Moment

SCHEMA_VERSION = "1"
MAX_TRANSCRIPT = 200
MAX_ITEMS = 50
MAX_FIELD = 500
# What the bot knows rides into the session on one metadata event, whose data is capped; the ids,
# origin, customer and verification beside these fields stay far below the margin.
MAX_CARRIED = MAX_DATA - 5_000
Method = Literal["otp_sms", "kba", "pin", "id_document", "voice_biometrics", "email_link"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CustomerRef(_Strict):
    """Whatever identifies the customer; one is enough, more resolve with more certainty."""

    customer_id: str | None = Field(None, max_length=64)
    phone: str | None = Field(None, max_length=40)
    email: str | None = Field(None, max_length=254)
    account: str | None = Field(None, max_length=64)
    name: str | None = Field(None, max_length=200)


class Verified(_Strict):
    """An identity check the bot (or an earlier channel) ran."""

    method: Method
    channel: Channel
    at: Moment
    result: Literal["passed", "failed"] = "passed"


class Line(_Strict):
    speaker: Literal["customer", "bot", "system"]
    text: str = Field(max_length=MAX_TEXT)
    ts: Moment | None = None


class Attempt(_Strict):
    """Something the bot already did: an action it ran, an article it showed, an answer it gave."""

    kind: Literal["action", "article", "answer"]
    name: str = Field(max_length=200, description="action name, article id or a short label")
    outcome: str | None = Field(
        None, max_length=MAX_FIELD, description="e.g. 'declined: card expired'"
    )


class Origin(_Strict):
    """Where this contact came from, e.g. the chat link in the billing email."""

    channel: Channel
    kind: str = Field(max_length=64, description="e.g. email_link, ivr_transfer, app_button")
    reference: str | None = Field(
        None, max_length=200, description="campaign, message or record id"
    )
    at: Moment | None = None


class HandoffRequest(_Strict):
    """What a bot sends to POST /v1/handoffs. Only handoff_id is required."""

    handoff_id: str = Field(
        pattern=ID_PATTERN,
        max_length=100,
        description="the bot's id for this handoff; sending it again is a no-op",
    )
    bot: str = Field("bot", max_length=64, description="the bot's name, shown to the agent")
    channel: Channel = Field("chat", description="where the bot talked with the customer")
    to_channel: Channel | None = Field(None, description="the human session's channel")
    customer: CustomerRef | None = None
    verification: Verified | None = None
    intent: str | None = Field(None, max_length=64, description="the bot's reading of the intent")
    details: dict[str, str] = Field(
        default_factory=dict, max_length=MAX_ITEMS, description="what the bot collected, by name"
    )
    tried: list[Attempt] = Field(default_factory=list, max_length=MAX_ITEMS)
    open_questions: list[str] = Field(default_factory=list, max_length=MAX_ITEMS)
    transcript: list[Line] = Field(default_factory=list, max_length=MAX_TRANSCRIPT)
    origin: Origin | None = None

    @model_validator(mode="after")
    def _fits_one_event(self) -> HandoffRequest:
        tried = [t.model_dump() for t in self.tried]
        carried = len(repr(self.details)) + len(repr(tried)) + len(repr(self.open_questions))
        if carried > MAX_CARRIED:
            raise ValueError(
                f"details, tried and open_questions together take {carried:,} characters; "
                f"at most {MAX_CARRIED:,} fit in one handoff"
            )
        return self


# --- the packet ------------------------------------------------------------------------------


class IntentReading(BaseModel):
    name: str
    confidence: float | None = None
    source: Literal["copilot", "bot"]
    bot_said: str | None = Field(None, description="the bot's intent when it differs")


class VerificationState(BaseModel):
    """Whether the customer counts as verified now, and from which check."""

    status: Literal["verified", "expired", "failed", "none"]
    method: str | None = None
    channel: str | None = None
    at: datetime | None = None
    window_minutes: float = Field(description="how long a check holds for this tenant")
    text: str = Field(description="e.g. 'verified by PIN in IVR, 4 minutes ago'")
    source: str | None = Field(None, description="this session, a handoff, a CRM record")


class Identity(BaseModel):
    status: Literal["matched", "ambiguous", "not_found", "unknown"]
    customer_id: str | None = None
    name: str | None = None
    how: str | None = Field(None, description="what identified them, e.g. 'phone'")
    verification: VerificationState


class Provided(BaseModel):
    """Something the customer already said or gave; the agent should not ask for it again."""

    field: str
    value: str = Field(description="masked where it is an identifier")
    source: str = Field(description="who collected it: the bot, the customer's own words")
    channel: str | None = None
    event_id: str | None = None


class MoodTrend(BaseModel):
    label: str | None
    trend: str | None
    quotes: list[str]


class FirstStep(BaseModel):
    step: str
    title: str
    say: str | None = None
    why: str | None = None


class HandoffPacket(BaseModel):
    """What the agent's panel opens with after a bot hands over. Published at /schemas."""

    schema_version: Literal["1"] = "1"
    handoff_id: str
    session_id: str
    created_at: datetime
    bot: str
    from_channel: Channel
    to_channel: Channel
    intent: IntentReading | None
    identity: Identity
    details: list[Provided]
    tried: list[Attempt]
    mood: MoodTrend
    open_questions: list[str]
    first_step: FirstStep | None
    origin: Origin | None
    summary: str = Field(description="one paragraph the agent can read in ten seconds")
    gaps: list[str] = Field(description="what the bot did not send and the copilot could not fill")


class HandoffAccepted(BaseModel):
    """The answer to POST /v1/handoffs: where the human session is, and the packet."""

    session_id: str
    duplicate: bool = Field(description="true when this handoff_id was accepted before")
    packet: HandoffPacket | None = Field(
        None,
        description="what the agent's panel opens with; not sent to the bot role, which reads "
        "nothing back (an agent reads it at GET /v1/handoffs/{handoff_id})",
    )
