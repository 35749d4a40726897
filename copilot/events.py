"""The event contract: what channels, bots and transcription send into a session."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

EventType = Literal["utterance", "action_result", "channel_switch", "metadata"]
Speaker = Literal["customer", "agent", "bot", "system"]
Channel = Literal["chat", "voice", "email", "sms", "whatsapp", "ivr", "web", "store"]
MAX_TEXT = 10_000
MAX_DATA = 20_000  # characters of an event's data (metadata, action results)
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$"  # event and session ids


class Event(BaseModel):
    """One thing that happened in a conversation. Re-sending the same event_id changes nothing."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    event_id: str = Field(pattern=ID_PATTERN)
    session_id: str = Field(pattern=ID_PATTERN)
    type: EventType
    speaker: Speaker = "customer"
    channel: Channel = "chat"
    text: str = Field("", max_length=MAX_TEXT)
    ts: datetime
    seq: int | None = Field(None, ge=0, description="sender's sequence number, when it has one")
    data: dict[str, Any] = Field(default_factory=dict, description="metadata or action result")

    @field_validator("ts")
    @classmethod
    def _utc(cls, value: datetime) -> datetime:
        # A timestamp without a zone is taken as UTC; every stored time is UTC.
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    @field_validator("data")
    @classmethod
    def _small_data(cls, value: dict[str, Any]) -> dict[str, Any]:
        if len(repr(value)) > MAX_DATA:
            raise ValueError(f"data is larger than {MAX_DATA:,} characters")
        return value
