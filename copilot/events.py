"""The event contract: what channels, bots and transcription send into a session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

EventType = Literal["utterance", "action_result", "channel_switch", "metadata"]
Speaker = Literal["customer", "agent", "bot", "system"]
Channel = Literal["chat", "voice", "email", "sms", "whatsapp", "ivr", "web", "store"]
MAX_TEXT = 10_000
MAX_DATA = 20_000  # characters of an event's data (metadata, action results)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"  # event and session ids
MAX_SEQ = 2**63 - 1  # a 64-bit column holds it on every backend
# Times a conversation can have: far enough apart for any archive, near enough that adding a
# verification window or a retention period never leaves the calendar.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _utc(value: datetime) -> datetime:
    # A timestamp without a zone is taken as UTC; every stored time is UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _in_range(value: datetime) -> datetime:
    # The year first: converting a time near the ends of the calendar to UTC overflows.
    if not EARLIEST.year <= value.year <= LATEST.year or not EARLIEST <= _utc(value) < LATEST:
        raise ValueError(f"must be between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)")
    return _utc(value)


Moment = Annotated[datetime, AfterValidator(_in_range)]
"""A point in time between 1970 and 2100, as UTC."""


class Event(BaseModel):
    """One thing that happened in a conversation. Re-sending the same event_id changes nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(pattern=ID_PATTERN)
    session_id: str = Field(pattern=ID_PATTERN)
    type: EventType
    speaker: Speaker = "customer"
    channel: Channel = "chat"
    text: str = Field("", max_length=MAX_TEXT)
    ts: Moment
    seq: int | None = Field(
        None, ge=0, le=MAX_SEQ, description="sender's sequence number, when it has one"
    )
    data: dict[str, Any] = Field(default_factory=dict, description="metadata or action result")

    @field_validator("data")
    @classmethod
    def _small_data(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(repr(value)) > MAX_DATA:
            raise ValueError(f"data is larger than {MAX_DATA:,} characters")
        return value
