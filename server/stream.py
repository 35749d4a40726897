"""Live fan-out of each session's stream to its subscribers, with resume after a dropped connection.

Panel updates carry their version as the SSE id; a subscriber that comes back with Last-Event-ID
gets what it missed from a short history, or one full snapshot when that history does not reach
back far enough. Token deltas are live only: the panel update that follows them is what counts.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field

from copilot.panel import Card, PanelUpdate, StreamItem, TokenDelta, TranscriptLine

KEEP = 256  # panel updates kept per session for resuming
QUEUE = 1024  # a subscriber further behind than this is dropped and resumes on reconnect


@dataclass
class _Channel:
    history: deque[PanelUpdate] = field(default_factory=lambda: deque(maxlen=KEEP))
    queues: set[asyncio.Queue[StreamItem | None]] = field(default_factory=set)


class Broadcaster:
    """Engine listener: every item goes to the session's live subscribers."""

    def __init__(self) -> None:
        self._channels: dict[str, _Channel] = {}
        self.dropped = 0
        self.closing = False

    def close(self) -> None:
        """The server is stopping: end every stream now (clients resume elsewhere or later)."""
        self.closing = True
        for session_id in list(self._channels):
            self._end(session_id)

    async def __call__(self, item: StreamItem) -> None:
        channel = self._channels.setdefault(item.session_id, _Channel())
        if isinstance(item, PanelUpdate):
            channel.history.append(item)
        for queue in list(channel.queues):
            try:
                queue.put_nowait(item)
            except asyncio.QueueFull:
                channel.queues.discard(queue)
                self.dropped += 1
                with contextlib.suppress(asyncio.QueueFull):
                    queue.put_nowait(None)  # tells the subscriber to end; it will resume

    def subscribers(self) -> int:
        return sum(len(c.queues) for c in self._channels.values())

    async def forget(self, session_id: str) -> None:
        """The session closed: its subscribers end."""
        self._end(session_id)

    def _end(self, session_id: str) -> None:
        channel = self._channels.pop(session_id, None)
        for queue in channel.queues if channel else ():
            with contextlib.suppress(asyncio.QueueFull):
                queue.put_nowait(None)

    async def follow(
        self, session_id: str, since: int | None, snapshot: list[Card], version: int
    ) -> AsyncGenerator[StreamItem, None]:
        """What the subscriber missed since `since`, then everything live until it leaves."""
        if self.closing:
            return
        channel = self._channels.setdefault(session_id, _Channel())
        queue: asyncio.Queue[StreamItem | None] = asyncio.Queue(maxsize=QUEUE)
        channel.queues.add(queue)
        try:
            last = max(since or 0, version)
            history = list(channel.history)
            for missed in catch_up(history, session_id, since, snapshot, version):
                last = max(last, missed.version)
                yield missed
            while True:
                item = await queue.get()
                if item is None:
                    return
                if isinstance(item, PanelUpdate):
                    if item.version <= last:
                        continue  # already sent in the catch-up
                    last = item.version
                yield item
        finally:
            channel.queues.discard(queue)


def catch_up(
    history: list[PanelUpdate],
    session_id: str,
    since: int | None,
    snapshot: list[Card],
    version: int,
) -> list[PanelUpdate]:
    """What a subscriber that last saw `since` needs first: the updates it missed when the kept
    history reaches back that far, else one snapshot and what was published after it.

    A version kept twice (a worker that caught up republishes the whole panel at the version
    the log has) is sent once.
    """
    history = _once_each(history)
    if since is not None:
        missed = [u for u in history if u.version > since]
        if missed and missed[0].version == since + 1:
            return missed  # kept updates reach back far enough (newer than a snapshot, maybe)
        if not missed and since >= version:
            return []  # nothing newer anywhere
    # A first connection, or a gap the history cannot fill: the whole panel as it is now,
    # then anything published between taking that snapshot and subscribing.
    whole = PanelUpdate(
        session_id=session_id,
        version=version,
        event_id="snapshot",
        cards=snapshot,
        latency_ms=0.0,
        source="fast",
    )
    return [whole, *(u for u in history if u.version > version)]


def _once_each(history: list[PanelUpdate]) -> list[PanelUpdate]:
    out: list[PanelUpdate] = []
    for update in history:
        if out and update.version <= out[-1].version:
            continue
        out.append(update)
    return out


def sse(item: StreamItem) -> str:
    """One item as a server-sent event; panel updates carry their version as the id."""
    body = item.model_dump_json()
    if isinstance(item, TokenDelta | TranscriptLine):
        return f"event: {item.type}\ndata: {body}\n\n"
    return f"id: {item.version}\nevent: panel_update\ndata: {body}\n\n"
