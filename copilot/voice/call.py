"""One phone call: audio per track in, partial transcripts out, a final utterance event per turn.

A track is a speaker (inbound: the customer, outbound: the agent), each with its own detector.
One worker per call transcribes in order, so a call's utterances reach the engine in the order
they ended; a partial that a newer one has overtaken is skipped, never transcribed late.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal

from copilot.events import Event, Speaker
from copilot.pii import MASK, RedactionPolicy, redact
from copilot.voice.audio import Samples
from copilot.voice.transcriber import Transcriber
from copilot.voice.vad import Segmenter, Utterance

Track = Literal["inbound", "outbound"]
SPEAKERS: dict[Track, Speaker] = {"inbound": "customer", "outbound": "agent"}
_KEYS = re.compile(r"\d+")


@dataclass(frozen=True)
class Transcript:
    """What the caller's bridge is told: redacted text, partial while the turn is open."""

    track: Track
    speaker: Speaker
    utterance: int  # numbers a track's turns; the partials of a turn share its final's number
    text: str
    final: bool
    start_s: float
    end_s: float
    event_id: str | None = None  # the utterance event a final became


def keypad(digits: str, policy: RedactionPolicy) -> str:
    """DTMF as it may be stored: a card keeps its last four, like a typed one; any other digits
    (a PIN, a code, an account) are masked whole, since a keypad is where secrets are entered."""
    masked = redact(digits, policy).text
    # Between the masks redact() put in ("[card ending 6467]"), not inside them.
    pieces = re.split(f"({MASK.pattern})", masked)
    return "".join(p if MASK.fullmatch(p) else _KEYS.sub("[keypad entry]", p) for p in pieces)


@dataclass
class Call:
    """The call's state; feed it audio and keys, await finish() when the call ends."""

    session_id: str
    call_id: str  # the bridge's call id, made safe for event ids
    rate: int
    transcriber: Transcriber
    post: Callable[[Event], Awaitable[object]]  # the events route's path into the engine
    tell: Callable[[Transcript], Awaitable[None]]
    policy: RedactionPolicy = field(default_factory=RedactionPolicy)
    _segmenters: dict[Track, Segmenter] = field(default_factory=dict)
    _turns: dict[Track, int] = field(default_factory=dict)
    _partials: dict[Track, int] = field(default_factory=dict)  # the newest partial's generation
    _jobs: asyncio.Queue[tuple[Track, int, int, Utterance] | None] = field(
        default_factory=asyncio.Queue
    )
    _keys: str = ""
    _entries: int = 0
    _worker: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._worker = asyncio.create_task(self._work())

    def audio(self, track: Track, samples: Samples) -> None:
        if self._worker is not None and self._worker.done():
            self._worker.result()  # the worker failed (the session closed): say so, now
        segmenter = self._segmenters.setdefault(track, Segmenter(rate=self.rate))
        for piece in segmenter.feed(samples):
            self._queue(track, piece)

    async def key(self, digit: str) -> None:
        """One DTMF key; '#' ends an entry, as IVRs read it."""
        if digit == "#":
            await self._keys_done()
        else:
            self._keys += digit

    async def finish(self) -> None:
        """The call ended: what was still being said is transcribed and posted, then we stop."""
        for track, segmenter in self._segmenters.items():
            for piece in segmenter.flush():
                self._queue(track, piece)
        self._jobs.put_nowait(None)
        if self._worker is not None:
            await self._worker
        await self._keys_done()

    def cancel(self) -> None:
        if self._worker is not None:
            self._worker.cancel()

    def _queue(self, track: Track, piece: Utterance) -> None:
        turn = self._turns.get(track, 0)
        generation = self._partials.get(track, 0) + 1
        self._partials[track] = generation
        if piece.final:
            self._turns[track] = turn + 1
        self._jobs.put_nowait((track, turn, generation, piece))

    async def _work(self) -> None:
        while (job := await self._jobs.get()) is not None:
            track, turn, generation, piece = job
            if not piece.final and generation != self._partials[track]:
                continue  # a newer partial, or the final, of this turn is already queued
            text = await asyncio.to_thread(self.transcriber.text, piece.audio, piece.rate)
            if not text:
                continue
            event_id = None
            if piece.final:
                await self._keys_done()  # keys pressed before this turn was said come first
                event_id = f"{self.call_id}-{track}-{turn}"
                await self.post(self._event(event_id, track, text, piece))
            await self.tell(
                Transcript(
                    track=track,
                    speaker=SPEAKERS[track],
                    utterance=turn,
                    text=redact(text, self.policy).text,
                    final=piece.final,
                    start_s=round(piece.start_s, 2),
                    end_s=round(piece.end_s, 2),
                    event_id=event_id,
                )
            )

    def _event(self, event_id: str, track: Track, text: str, piece: Utterance) -> Event:
        return Event(
            event_id=event_id,
            session_id=self.session_id,
            type="utterance",
            speaker=SPEAKERS[track],
            channel="voice",
            text=text,
            ts=datetime.now(UTC),
            data={
                "track": track,
                "start_s": round(piece.start_s, 2),
                "end_s": round(piece.end_s, 2),
            },
        )

    async def _keys_done(self) -> None:
        if not self._keys:
            return
        keys, self._keys = self._keys, ""
        self._entries += 1
        await self.post(
            Event(
                event_id=f"{self.call_id}-keys-{self._entries}",
                session_id=self.session_id,
                type="metadata",
                speaker="system",
                channel="voice",
                ts=datetime.now(UTC),
                data={"dtmf": keypad(keys, self.policy)},
            )
        )
