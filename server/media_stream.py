"""The Twilio Media Streams wire format, as a Twilio <Stream> or a SIP/SIPREC bridge sends it.

Only the fields the copilot reads are declared; the rest Twilio may add are ignored, so a new
field on their side never drops a call. audio/l16 at 8 or 16 kHz is ours, for other bridges.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, model_validator

MAX_MESSAGE = 64 * 1024  # characters of one frame: Twilio's are ~0.3 KiB (20 ms of audio)
MAX_PAYLOAD = 32 * 1024  # base64 characters of audio in one media message
Track = Literal["inbound", "outbound"]


class _Part(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class MediaFormat(_Part):
    encoding: Literal["audio/x-mulaw", "audio/l16"]
    sampleRate: int  # noqa: N815 - Twilio's spelling
    channels: Literal[1] = 1

    @model_validator(mode="after")
    def _rate(self) -> MediaFormat:
        allowed = {8000} if self.encoding == "audio/x-mulaw" else {8000, 16000}
        if self.sampleRate not in allowed:
            raise ValueError(f"{self.encoding} at {self.sampleRate} Hz is not supported")
        return self


def _inbound() -> list[Track]:
    return ["inbound"]


class StartBody(_Part):
    callSid: str = Field(min_length=1, max_length=64)  # noqa: N815
    streamSid: str | None = Field(None, max_length=64)  # noqa: N815
    tracks: list[Track] = Field(default_factory=_inbound, max_length=2)
    customParameters: dict[str, str] = Field(default_factory=dict, max_length=20)  # noqa: N815
    mediaFormat: MediaFormat  # noqa: N815


class MediaBody(_Part):
    track: Track = "inbound"
    payload: str = Field(max_length=MAX_PAYLOAD)
    chunk: str | None = None
    timestamp: str | None = None


class DtmfBody(_Part):
    track: Track = "inbound"
    digit: str = Field(pattern=r"^[0-9*#A-D]$")


class Connected(_Part):
    event: Literal["connected"]


class Start(_Part):
    event: Literal["start"]
    start: StartBody


class Media(_Part):
    event: Literal["media"]
    media: MediaBody


class Dtmf(_Part):
    event: Literal["dtmf"]
    dtmf: DtmfBody


class Mark(_Part):
    event: Literal["mark"]


class Stop(_Part):
    event: Literal["stop"]


Message = Annotated[Connected | Start | Media | Dtmf | Mark | Stop, Field(discriminator="event")]
MESSAGE: TypeAdapter[Message] = TypeAdapter(Message)
