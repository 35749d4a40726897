"""Live fan-out and session leases through Redis, for several workers: every subscriber on any
worker gets every update of its session once, in version order, and resumes with Last-Event-ID
from a bounded Redis stream per session (`COPILOT_REDIS_URL`); one worker at a time applies a
session's changes, under its lease.

The worker that applies an event appends the update to the session's stream (XADD, trimmed to
about KEEP entries); each subscriber reads that stream (XREAD) from where it is, whichever
worker it is connected to. The same contract as the in-process `server.stream.Broadcaster`:
a first connection or a gap the stream no longer holds gets one snapshot, then what follows it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from pydantic import TypeAdapter
from redis.exceptions import LockError, RedisError

from copilot.lease import SessionBusy
from copilot.panel import Card, PanelUpdate, StreamItem
from server.metrics import Families
from server.stream import KEEP, catch_up
from tools.errors import SystemUnavailable

PREFIX = "copilot:stream:"
METRICS = "copilot:metrics:"
METRICS_EVERY_S = 5.0  # how often a worker shares its counters with the others
METRICS_TTL_S = 15.0  # a worker gone this long drops out of every worker's /metrics
LEASES = "copilot:lease:"
LEASE_TTL_S = 30.0  # a worker that dies holding a lease blocks its session this long at most
LEASE_WAIT_S = 10.0  # how long a change waits for another worker's before a 503
log = logging.getLogger("copilot.fanout")
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
        kind = "panel" if isinstance(item, PanelUpdate) else item.type
        fields = {"kind": kind, "item": item.model_dump_json()}
        await self._redis.xadd(_key(item.session_id), fields, maxlen=self._keep, approximate=True)

    def lease(self, ttl_s: float = LEASE_TTL_S, wait_s: float = LEASE_WAIT_S) -> RedisLease:
        """Session leases on the same Redis."""
        return RedisLease(self._redis, ttl_s, wait_s)

    async def share_metrics(self, worker: str, families: Families) -> None:
        """This worker's counters, for whichever worker answers the next scrape."""
        await self._redis.set(f"{METRICS}{worker}", json.dumps(families), ex=int(METRICS_TTL_S))

    async def others_metrics(self, worker: str) -> list[Families]:
        """What the other live workers last shared; nothing when Redis does not answer."""
        try:
            async with asyncio.timeout(1.0):
                keys = [k async for k in self._redis.scan_iter(match=f"{METRICS}*", count=100)]
                mine = f"{METRICS}{worker}".encode()
                values = await self._redis.mget([k for k in keys if k != mine]) if keys else []
        except (TimeoutError, RedisError, OSError):
            return []
        return [f for f in (_families(raw) for raw in values) if f is not None]

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


class RedisLease:
    """One worker at a time per key, through a Redis lock (SET NX PX, released by its token).

    A lease that runs out while held is not a lost update: the session log fences on the panel
    version (copilot.lease), so the late worker's append is refused and it reads the session
    again. Keys (a session id, a tenant's handoff id) are names, never parsed.
    """

    shared = True

    def __init__(self, redis: Any, ttl_s: float, wait_s: float) -> None:
        self._redis = redis
        self._ttl_s, self._wait_s = ttl_s, wait_s
        self.waits = 0  # how many holds found the key taken by another worker and waited
        self.lapsed = 0  # how many holds outlived their lease (another worker may have taken it)

    def hold(self, key: str) -> contextlib.AbstractAsyncContextManager[None]:
        return self._held(key)

    @contextlib.asynccontextmanager
    async def _held(self, key: str) -> AsyncIterator[None]:
        lock = self._redis.lock(
            f"{LEASES}{key}",
            timeout=self._ttl_s,
            blocking_timeout=self._wait_s,
            sleep=0.01,
            thread_local=False,
        )
        try:
            if not await lock.acquire(blocking=False):
                self.waits += 1
                if not await lock.acquire():
                    raise SessionBusy(
                        f"another worker has held {key} for over {self._wait_s:.0f} s; try again"
                    )
        except (RedisError, OSError) as exc:
            # Without Redis no worker can take a lease: the change waits for it to come back.
            raise SystemUnavailable("redis", f"cannot take the lease on {key}: {exc}") from None
        try:
            yield
        finally:
            try:
                await lock.release()
            except LockError:
                self.lapsed += 1
                log.warning("the lease on %s ran out before it was released", key)


def _families(raw: bytes | None) -> Families | None:
    try:
        loaded = json.loads(raw or b"")
        return {str(k): (str(kind), [str(x) for x in lines]) for k, (kind, lines) in loaded.items()}
    except (ValueError, TypeError, AttributeError):
        return None  # a worker of another version, or a half-written value: skipped


def _key(session_id: str) -> str:
    return f"{PREFIX}{session_id}"


def _parse(fields: dict[bytes, bytes]) -> StreamItem | None:
    raw = fields.get(b"item")
    if not raw or fields.get(b"kind") not in (b"panel", b"token", b"transcript"):
        return None
    with contextlib.suppress(ValueError):
        return _ITEM.validate_json(raw)
    return None
