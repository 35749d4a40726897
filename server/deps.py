"""What routes need, built once in the app factory and handed over by FastAPI's Depends."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import AsyncIterator, Callable, Hashable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, Request

from copilot import sessions_db
from copilot.handoff_intake import HandoffStore
from copilot.knowledge import build_retriever
from copilot.lease import Lease, LocalLease
from copilot.session_registry import SessionRegistry
from copilot.settings import Settings
from copilot.store import HandoffLog, SessionDirectory
from copilot.tenants import Policies
from copilot.touchpoints import TouchpointLog
from server.auth import KeyRing
from server.fanout import RedisBroadcaster
from server.metrics import Metrics
from server.stream import Broadcaster
from tools.base import Systems
from tools.errors import NotFound
from tools.kb.retriever import Retriever

if TYPE_CHECKING:
    from copilot.engine import Engine


@dataclass
class CopilotDeps:
    settings: Settings
    systems: Systems
    keys: KeyRing
    today: Callable[[], date] = field(default=date.today)
    _retriever: Retriever | None = None
    _engine: Engine | None = None
    _registry: SessionDirectory | None = None
    _handoffs: HandoffLog | None = None
    broadcaster: Broadcaster | RedisBroadcaster = field(default_factory=Broadcaster)
    metrics: Metrics = field(default_factory=Metrics)
    lease: Lease = field(default_factory=LocalLease)  # shared with every worker through Redis
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _wired: bool = False
    _claims: dict[Hashable, tuple[asyncio.Lock, int]] = field(default_factory=dict)
    warm: bool = False  # the engine has loaded its models and answered a first query

    @property
    def sessions_url(self) -> str:
        return self.settings.sessions_database()

    def retriever(self) -> Retriever:
        """Built on first use: loading the embedding model takes seconds; not every run needs it."""
        with self._lock:
            if self._retriever is None:
                built = self._engine.deps.retriever if self._engine is not None else None
                self._retriever = built or build_retriever(self.settings)
            return self._retriever

    def engine(self) -> Engine:
        """The copilot engine, built once (models load here), its stream wired to the fan-out."""
        with self._lock:
            if self._engine is None:
                from copilot.runtime import build_engine

                sessions_db.require_current(self.sessions_url)  # migrated, else say how
                # A session's tenant sets how long a verification holds and what links.
                self._engine = build_engine(
                    self.settings, self.sessions_url, tenant_of=self._tenant_of
                )
            if not self._wired:
                self._engine.subscribe(self.broadcaster)
                self._engine.subscribe(self._count)
                wiring = self._engine.deps
                if self.lease.shared:
                    wiring.lease = self.lease
                if wiring.tenant_of is None:  # an engine handed in (tests) learns the tenants
                    wiring.policies = Policies.from_settings(self.settings)
                    wiring.tenant_of = self._tenant_of
                    if wiring.touchpoints is None:
                        wiring.touchpoints = TouchpointLog(self.sessions_url)
                self._wired = True
            return self._engine

    @asynccontextmanager
    async def claim(self, key: Hashable) -> AsyncIterator[None]:
        """One request at a time for key (e.g. one handoff_id): in this process by a lock that is
        dropped when nobody holds or waits for it, across workers by the lease."""
        lock, users = self._claims.get(key, (asyncio.Lock(), 0))
        self._claims[key] = (lock, users + 1)
        try:
            async with lock, self.lease.hold(f"claim:{json.dumps(key)}"):
                yield
        finally:
            lock, users = self._claims[key]
            if users == 1:
                del self._claims[key]
            else:
                self._claims[key] = (lock, users - 1)

    def _tenant_of(self, session_id: str) -> str | None:
        try:
            return self.registry().get(session_id).tenant
        except NotFound:
            return None

    def handoffs(self) -> HandoffLog:
        with self._lock:
            if self._handoffs is None:
                self._handoffs = HandoffStore(self.sessions_url)
            return self._handoffs

    async def _count(self, item: object) -> None:
        from copilot.panel import PanelUpdate

        if isinstance(item, PanelUpdate):
            self.metrics.updates[item.source] += 1
            if item.source == "fast":
                self.metrics.panel_latency.observe(item.latency_ms)

    def engine_ready(self) -> bool:
        return self._engine is not None and self.warm

    def registry(self) -> SessionDirectory:
        with self._lock:
            if self._registry is None:
                self._registry = SessionRegistry(self.sessions_url)
            return self._registry


async def get_deps(request: Request) -> CopilotDeps:  # async: no thread-pool hop
    deps: CopilotDeps = request.app.state.deps
    return deps


DepsDep = Annotated[CopilotDeps, Depends(get_deps)]
