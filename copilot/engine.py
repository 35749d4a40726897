"""The engine: orders the stages, holds each live session's lock, persists, publishes.

What each card says is computed elsewhere, one hop away: the stages in copilot.stages fold
an event into the session's state, the builders in copilot.cards turn state into cards, and the
slow path enters through the Enricher port (copilot.enricher).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from copilot import approvals, cards, stages
from copilot.actions import Proposal
from copilot.ask import AskResult, check_question, offline_answer
from copilot.deps import EngineDeps
from copilot.enricher import Enricher
from copilot.event_log import Stale, ordered
from copilot.events import Event
from copilot.lease import SessionBusy
from copilot.panel import Card, Panel, PanelUpdate, StreamItem
from copilot.pii import RedactionPolicy
from copilot.session_state import SessionState
from copilot.stages import actions, redact
from tools.actions import ActionRequest
from tools.errors import CopilotError, NotFound

Listener = Callable[[StreamItem], Awaitable[None]]
TRIES = 3  # reads of a session another worker keeps moving on, before giving up

__all__ = ["Engine", "EngineDeps", "EventConflict", "Live"]


class EventConflict(CopilotError):
    """An event_id already stored with other content: a sender's bug, never applied."""

    status_code = 409
    code = "event_conflict"

    def __init__(self, event_ids: list[str]) -> None:
        super().__init__(
            f"event_id {', '.join(event_ids)} was already received with other content; "
            "send new events under new ids"
        )


@dataclass
class Live:
    state: SessionState
    panel: Panel = field(default_factory=Panel)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


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
            fresh, last = await self._read(session_id)
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
                    live.state = self._blank(session_id, live.state)
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
        """Load what the first event would otherwise wait for: models, lexical index."""
        text = "Hello, my bill looks wrong this month."
        vector = None
        if self.deps.embedder is not None:
            vector = np.asarray(self.deps.embedder.embed([text])[0])
        if self.deps.intent is not None:
            self.deps.intent.predict([text], vectors=None if vector is None else [vector])
        if self.deps.mood is not None:
            self.deps.mood().update("warm-up", text, vector=vector)
        if self.deps.retriever is not None:
            with contextlib.suppress(CopilotError):
                self.deps.retriever.search(text, 1)

    async def snapshot(self, session_id: str) -> tuple[list[Card], int]:
        """Every card of a session and the panel's version, rebuilt from the log if need be
        (also when another worker has moved the session on since this one read it)."""
        live = await self.session(session_id)
        if self.deps.store.version(session_id) > live.panel.version:
            self._behind(session_id)
            live = await self.session(session_id)
        async with live.lock:
            return list(live.panel.cards.values()), live.panel.version

    def _blank(self, session_id: str, previous: SessionState | None = None) -> SessionState:
        state = SessionState(session_id=session_id)
        tenant = self.deps.tenant_of(session_id) if self.deps.tenant_of else None
        state.window = self.deps.policies.window(tenant)
        if previous is not None:  # a late event refolds the log; decisions and notes stay
            state.proposals, state.llm = previous.proposals, previous.llm
        elif self.deps.actions is not None:
            state.proposals = {p.action_id: p for p in self.deps.actions.session(session_id)}
        return state

    async def _restore(self, session_id: str) -> Live:
        live, last = await self._read(session_id)
        self._live[session_id] = live
        await self._republish(live, last)
        return live

    async def _republish(self, live: Live, last: str | None) -> None:
        """The whole panel as the log has it, at its version: a worker that stored an event and
        died before publishing its update leaves no subscriber behind; one that has it all
        already skips it by version."""
        if last is None:
            return
        await self.publish(
            PanelUpdate(
                session_id=live.state.session_id,
                version=live.panel.version,
                event_id=last,
                cards=list(live.panel.cards.values()),
                latency_ms=0.0,
                source="restore",
            )
        )

    async def _read(self, session_id: str) -> tuple[Live, str | None]:
        """The session as its log has it (and its last event's id), not registered or published."""
        # The version first: a decision another worker makes while this reads must leave the
        # copy looking older than it is (it is read again), never newer than what it holds.
        kept = self.deps.store.version(session_id)
        live = Live(self._blank(session_id))
        for proposal in live.state.proposals.values():
            await actions.preview(self.deps, proposal, live.state)
        if self.enricher is not None:
            self.enricher.restore(live.state)
        history = self.deps.store.events(session_id)
        for past in history:
            await stages.fold(self.deps, live.state, past, past.text)
        if history:  # a restored session's cards are already on the agent's screen
            await stages.restored(self.deps, live.state)
            live.panel.diff(self._cards(live.state))
        # Versions only grow: a rejection or the slow path moved it without a logged event.
        live.panel.version = max(len(history), kept)
        return live, history[-1].event_id if history else None

    def _cards(self, state: SessionState) -> list[Card]:
        built: list[Any] = cards.build(state, self.deps.playbooks, self.redaction(state.session_id))
        if self.enricher is not None:
            built = self.enricher.overlay(built, state)
        return built + [p.card() for p in state.proposals.values()]
