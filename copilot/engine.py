"""The engine: orders the stages, holds each live session's lock, persists, publishes.

What each card says is computed elsewhere, one hop away: the stages in copilot.stages fold
an event into the session's state, the builders in copilot.cards turn state into cards, and the
slow path enters through the Enricher port (copilot.enricher); copilot.session_copy reads a
session's copy from its log.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any

from copilot import approvals, cards, session_copy, stages
from copilot.actions import Proposal
from copilot.ask import AskResult, check_question, offline_answer
from copilot.deps import EngineDeps
from copilot.enricher import Enricher
from copilot.event_log import EventConflict, Stale, ordered
from copilot.events import Event
from copilot.lease import SessionBusy
from copilot.panel import Card, PanelUpdate, StreamItem
from copilot.pii import RedactionPolicy
from copilot.session_copy import Live
from copilot.session_state import SessionState
from copilot.stages import actions, redact
from tools.actions import ActionRequest
from tools.errors import NotFound

Listener = Callable[[StreamItem], Awaitable[None]]
TRIES = 3  # reads of a session another worker keeps moving on, before giving up

__all__ = ["Engine", "EngineDeps", "EventConflict", "Live"]


class Engine:
    """One engine per process; sessions live in memory and are rebuilt from the log on demand."""

    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps
        self._live: dict[str, Live] = {}
        self._restoring: dict[str, asyncio.Future[Live]] = {}
        self._listeners: list[Listener] = []
        self.rereads = 0  # sessions read again because another worker had moved them on
        self.refused = 0  # appends the log refused as stale (a lease that lapsed), then retried
        self.enricher: Enricher | None = deps.enricher(self) if deps.enricher else None

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Receive every panel update and token delta; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def publish(self, item: StreamItem) -> None:
        for listener in list(self._listeners):
            await listener(item)

    async def settle(self, session_id: str | None = None) -> None:
        """Wait for the slow path to finish what it has been given."""
        if self.enricher is not None:
            await self.enricher.settle(session_id)

    async def aclose(self) -> None:
        if self.enricher is not None:
            await self.enricher.aclose()

    async def release(self, session_id: str) -> None:
        """A closed session leaves memory; its log stays, and reading it rebuilds the panel."""
        if self.enricher is not None:
            await self.enricher.forget(session_id)
        self._live.pop(session_id, None)
        self.deps.drills.pop(session_id, None)

    def redaction(self, session_id: str) -> RedactionPolicy:
        """What is masked before anything is stored: the session's tenant decides, if it has one."""
        if self.deps.tenant_of is None:
            return self.deps.policy
        return self.deps.policies.redaction(self.deps.tenant_of(session_id))

    def live(self, session_id: str) -> Live | None:
        return self._live.get(session_id)

    def _behind(self, session_id: str) -> None:
        """This copy is older than the log: drop it, so the next use reads the session again."""
        self._live.pop(session_id, None)
        self.rereads += 1

    def in_memory(self) -> int:
        """How many sessions this process holds live."""
        return len(self._live)

    @contextlib.asynccontextmanager
    async def hold(self, live: Live, fence: bool = True) -> AsyncIterator[None]:
        """The session to oneself: its lock here and, with several workers, its lease.

        fence: raise Stale when another worker moved the session on while this one waited (the
        slow path's way); events and decisions catch up instead, and the log fences appends.
        """
        session_id = live.state.session_id
        async with live.lock, self.deps.lease.hold(session_id):
            if fence and self.deps.lease.shared:
                kept = self.deps.store.version(session_id)
                if kept > live.panel.version:
                    self._behind(session_id)
                    raise Stale(session_id, live.panel.version, kept)
            yield

    async def catch_up(self, live: Live) -> None:
        """Bring this copy up to the log if another worker moved the session on (the caller
        holds it), so a change under the lease is made on the latest version, not refused."""
        session_id = live.state.session_id
        if self.deps.lease.shared and (
            self._live.get(session_id) is not live
            or self.deps.store.version(session_id) > live.panel.version
        ):
            fresh, last = await session_copy.read(self.deps, self.enricher, self._cards, session_id)
            live.state, live.panel = fresh.state, fresh.panel
            self._live[session_id] = live
            self.rereads += 1
            await self._republish(live, last)

    async def session(self, session_id: str) -> Live:
        """The live session, restored from the log once however many callers ask at once."""
        live = self._live.get(session_id)
        if live is not None:
            return live
        pending = self._restoring.get(session_id)
        if pending is None:
            pending = asyncio.ensure_future(self._restore(session_id))
            self._restoring[session_id] = pending
            pending.add_done_callback(lambda _: self._restoring.pop(session_id, None))
        return await asyncio.shield(pending)

    async def ask(self, session_id: str, question: str) -> AskResult:
        """The agent's own question: the model with tools when configured, else the best passage."""
        text = check_question(question)
        if self.live(session_id) is None and not self.deps.store.events(session_id):
            raise NotFound(f"no session {session_id}")
        await self.session(session_id)
        if self.enricher is None:
            return await offline_answer(self.deps.retriever, text)
        return await self.enricher.ask(session_id, text)

    async def decide(
        self, session_id: str, action: str, approve: bool, by: str, at: datetime | None = None
    ) -> PanelUpdate | None:
        """An agent approves or rejects a proposed action (copilot.approvals)."""
        return await approvals.decide(self, session_id, action, approve, by, at)

    async def handle(self, event: Event) -> PanelUpdate | None:
        """Apply one event; None when it was a duplicate and changed nothing."""
        return (await self.handle_all([event]))[0]

    async def handle_all(self, events: list[Event]) -> list[PanelUpdate | None]:
        """Apply one session's events, all or none: None for each duplicate.

        Applied in conversation order whatever order they came in; events that belong before
        stored ones fold the log again once for the lot, not once each. A fold that fails takes
        the batch's events back out of the log; nothing of it is published.
        """
        started = time.perf_counter()
        session_id = events[0].session_id
        batch = ordered([(e, i) for i, e in enumerate(events)]) if len(events) > 1 else events
        for _ in range(TRIES):
            try:
                return await self._apply(session_id, events, batch, started)
            except Stale:  # a lapsed lease let another worker move it on: read it again
                self.refused += 1
                self._behind(session_id)
        raise SessionBusy(f"session {session_id} kept moving on under other workers; try again")

    async def _apply(
        self, session_id: str, events: list[Event], batch: list[Event], started: float
    ) -> list[PanelUpdate | None]:
        live = await self.session(session_id)
        async with self.hold(live, fence=False):
            await self.catch_up(live)
            clean = redact.clean_all(batch, live.state, self.redaction(session_id))
            appended = self.deps.store.append_all(clean, live.panel.version)
            conflicts = [e.event_id for e, a in zip(batch, appended, strict=True) if a.conflict]
            if conflicts:
                raise EventConflict(conflicts)
            todo = [
                (c, e) for c, e, a in zip(clean, batch, appended, strict=True) if not a.duplicate
            ]
            updates: dict[str, PanelUpdate] = {}  # by event_id
            published: list[PanelUpdate] = []
            try:
                if any(a.late for a in appended):
                    live.state = session_copy.blank(self.deps, session_id, live.state)
                    for past in self.deps.store.events(session_id):
                        await stages.fold(self.deps, live.state, past, past.text)
                    await stages.restored(self.deps, live.state)
                    published.append(self.refresh(live, todo[-1][0].event_id, started))
                    updates = {c.event_id: published[0] for c, _ in todo}
                else:
                    for c, raw in todo:
                        await stages.fold(self.deps, live.state, c, raw.text)
                        published.append(self.refresh(live, c.event_id, started))
                        updates[c.event_id] = published[-1]
            except BaseException:
                self.deps.store.discard(session_id, [c.event_id for c, _ in todo])
                self._live.pop(session_id, None)  # rebuilt from the log on next use
                raise
            # Under the lease, so every worker's updates reach the shared stream in version order.
            for update in published:
                await self.publish(update)
        if self.enricher is not None and any(c.type != "metadata" for c, _ in todo):
            self.enricher.kick(session_id, todo[-1][0].event_id)
        # In the caller's order; an id sent twice in one batch is applied once.
        return [updates.pop(e.event_id, None) for e in events]

    def refresh(
        self, live: Live, event_id: str, started: float, source: str = "fast"
    ) -> PanelUpdate:
        """The cards that changed since the last update (the caller holds live.lock)."""
        changed = live.panel.diff(self._cards(live.state))
        live.panel.version += 1
        if source != "fast":  # an event's version is kept with the event itself
            self.deps.store.save_version(live.state.session_id, live.panel.version)
        return PanelUpdate(
            session_id=live.state.session_id,
            version=live.panel.version,
            event_id=event_id,
            cards=changed,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            source=source,
        )

    async def add_proposal(
        self, state: SessionState, request: ActionRequest, by: str, why: str
    ) -> Proposal | None:
        """A write action for the agent to approve (the slow path proposes through here)."""
        return await actions.add(self.deps, state, request, by, why)

    def panel(self, session_id: str) -> list[Card]:
        live = self._live.get(session_id)
        return list(live.panel.cards.values()) if live else []

    def warm_up(self) -> None:
        self.deps.warm_up()

    async def snapshot(self, session_id: str) -> tuple[list[Card], int]:
        """Every card of a session and the panel's version, rebuilt from the log if need be
        (also when another worker has moved the session on since this one read it)."""
        live = await self.session(session_id)
        if self.deps.store.version(session_id) > live.panel.version:
            self._behind(session_id)
            live = await self.session(session_id)
        async with live.lock:
            return list(live.panel.cards.values()), live.panel.version

    async def _restore(self, session_id: str) -> Live:
        live, last = await session_copy.read(self.deps, self.enricher, self._cards, session_id)
        self._live[session_id] = live
        await self._republish(live, last)
        return live

    async def _republish(self, live: Live, last: str | None) -> None:
        update = session_copy.whole_panel(live, last)
        if update is not None:
            await self.publish(update)

    def _cards(self, state: SessionState) -> list[Card]:
        built: list[Any] = cards.build(state, self.deps.playbooks, self.redaction(state.session_id))
        if self.enricher is not None:
            built = self.enricher.overlay(built, state)
        return built + [p.card() for p in state.proposals.values()]
