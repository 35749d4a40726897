"""One model run at a time per session; a burst of events during a wait or a run makes one more."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

MAX_WAITS = 4  # a steady trickle of events must not postpone the model forever


@dataclass
class _Lane:
    task: asyncio.Task[None] | None = None
    dirty: bool = False
    event_id: str = ""


class Lanes:
    """Coalesces work per key: kick() during a wait or a run schedules exactly one more run."""

    def __init__(self, run: Callable[[str, str], Awaitable[None]], wait_s: float) -> None:
        self._run = run
        self._wait_s = wait_s
        self._lanes: dict[str, _Lane] = {}

    def kick(self, key: str, event_id: str) -> None:
        lane = self._lanes.setdefault(key, _Lane())
        lane.event_id = event_id
        if lane.task is not None and not lane.task.done():
            lane.dirty = True
            return
        lane.dirty = False
        lane.task = asyncio.create_task(self._drain(key, lane))

    async def _drain(self, key: str, lane: _Lane) -> None:
        while True:
            for _ in range(MAX_WAITS):
                lane.dirty = False
                await asyncio.sleep(self._wait_s)
                if not lane.dirty:
                    break
            lane.dirty = False
            await self._run(key, lane.event_id)
            if not lane.dirty:
                return

    async def settle(self, key: str | None = None) -> None:
        """Wait until the given session's (or every session's) runs are done."""
        while True:
            tasks = [
                lane.task
                for k, lane in self._lanes.items()
                if lane.task is not None and not lane.task.done() and (key is None or k == key)
            ]
            if not tasks:
                return
            await asyncio.gather(*tasks, return_exceptions=True)

    async def forget(self, key: str) -> None:
        """Finish the session's pending run, then drop its lane."""
        await self.settle(key)
        self._lanes.pop(key, None)

    async def aclose(self) -> None:
        for lane in self._lanes.values():
            if lane.task is not None and not lane.task.done():
                lane.task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await lane.task
