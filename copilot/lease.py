"""Who may change a session now: the seam between one process and many workers.

In one process each live session's asyncio lock is enough, so the local lease holds nothing.
With several workers (`server.fanout.RedisLease`) a session's events, approvals and model
updates are applied by one worker at a time; the lease is only an optimisation of who goes
first, and the panel version is the fencing token: the session log refuses to store past a
version its caller has not seen (`copilot.event_log.Stale`), so a worker whose lease ran out
mid-apply cannot overwrite one that took over.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Protocol

from tools.errors import CopilotError

__all__ = ["Lease", "LocalLease", "SessionBusy"]


class SessionBusy(CopilotError):
    """Another worker held the session for longer than a caller waits; the caller retries."""

    status_code = 503
    code = "session_busy"


class Lease(Protocol):
    shared: bool  # held across processes, so another worker may have moved the session on
    waits: int  # holds that found the key taken by another worker and waited
    lapsed: int  # holds that outlived their lease (another worker may have taken it)

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        """Held until the block ends; raises SessionBusy when it cannot be had in time."""
        ...


class LocalLease:
    """One process: the caller's asyncio lock already serialises the session."""

    shared = False
    waits = 0
    lapsed = 0

    @asynccontextmanager
    async def _held(self) -> AsyncIterator[None]:
        yield

    def hold(self, key: str) -> AbstractAsyncContextManager[None]:
        return self._held()
