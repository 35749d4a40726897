"""Live fan-out through Redis, for several workers: every subscriber on any worker gets every
update of its session once, in version order, and resumes with Last-Event-ID from a bounded
Redis stream per session (`COPILOT_REDIS_URL`).

The worker that applies an event appends the update to the session's stream (XADD, trimmed to
about KEEP entries); each subscriber reads that stream (XREAD) from where it is, whichever
worker it is connected to. The same contract as the in-process `server.stream.Broadcaster`:
a first connection or a gap the stream no longer holds gets one snapshot, then what follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncGenerator
from typing import Any

import redis.asyncio as aioredis
from pydantic import TypeAdapter
from redis.exceptions import RedisError

from copilot.panel import Card, PanelUpdate, StreamItem
from server.stream import KEEP, catch_up

PREFIX = "copilot:stream:"
BLOCK_MS = 1000  # how long one read waits before looking at whether to stop
CLOSED_TTL_S = 3600  # a closed session's stream stays this long for late readers, then goes
_ITEM: TypeAdapter[StreamItem] = TypeAdapter(StreamItem)


class RedisBroadcaster:
    """Engine listener and stream source, shared by every worker through one Redis."""

    def __init__(self, url: str, keep: int = KEEP) -> None:
        # Any: redis-py's stubs type stream replies as a union of every reply shape.
        self._redis: Any = aioredis.from_url(url)
        self._keep = keep
        self._following = 0
        self.dropped = 0
        self.closing = False

    async def __call__(self, item: StreamItem) -> None:
        kind = "panel" if isinstance(item, PanelUpdate) else "token"
        fields = {"kind": kind, "item": item.model_dump_json()}
        await self._redis.xadd(_key(item.session_id), fields, maxlen=self._keep, approximate=True)

    async def reachable(self) -> bool:
        """Redis answers a ping within a second (readiness)."""
        try:
            async with asyncio.timeout(1.0):
                return bool(await self._redis.ping())
        except (TimeoutError, RedisError, OSError):
            return False

    def subscribers(self) -> int:
        return self._following

    async def forget(self, session_id: str) -> None:
        """The session closed: its subscribers everywhere end; the stream expires later."""
        key = _key(session_id)
        await self._redis.xadd(key, {"kind": "end", "item": ""})
        await self._redis.expire(key, CLOSED_TTL_S)

    def close(self) -> None:
        """This worker is stopping: its own subscribers end within BLOCK_MS."""
        self.closing = True

    async def aclose(self) -> None:
        await self._redis.aclose()

    async def follow(
        self, session_id: str, since: int | None, snapshot: list[Card], version: int
    ) -> AsyncGenerator[StreamItem, None]:
        """What the subscriber missed since `since`, then everything live until it leaves."""
        if self.closing:
            return
        key = _key(session_id)
        self._following += 1
        try:
            entries = await self._redis.xrange(key)
            cursor = entries[-1][0] if entries else b"0-0"
            if any(fields.get(b"kind") == b"end" for _, fields in entries):
                return
            history = [
                item
                for item in (_parse(fields) for _, fields in entries)
                if isinstance(item, PanelUpdate)
            ]
            last = max(since or 0, version)
            for missed in catch_up(history, session_id, since, snapshot, version):
                last = max(last, missed.version)
                yield missed
            while not self.closing:
                read = await self._redis.xread({key: cursor}, block=BLOCK_MS, count=100)
                for _, got in read or []:
                    for entry_id, fields in got:
                        cursor = entry_id
                        if fields.get(b"kind") == b"end":
                            return
                        item = _parse(fields)
                        if item is None:
                            continue
                        if isinstance(item, PanelUpdate):
                            if item.version <= last:
                                continue  # already sent in the catch-up
                            last = item.version
                        yield item
        finally:
            self._following -= 1


def _key(session_id: str) -> str:
    return f"{PREFIX}{session_id}"


def _parse(fields: dict[bytes, bytes]) -> StreamItem | None:
    raw = fields.get(b"item")
    if not raw or fields.get(b"kind") not in (b"panel", b"token"):
        return None
    with contextlib.suppress(ValueError):
        return _ITEM.validate_json(raw)
    return None
