"""The app factory: settings, systems, keys and routes wired once, nothing done at import time."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

from fastapi import FastAPI
from redis.exceptions import RedisError

from copilot import __version__
from copilot.keys import default_path, demo_keys
from copilot.settings import Settings, load_settings
from copilot.systems import build_systems
from server import errors, logs
from server.auth import KeyRing
from server.deps import CopilotDeps
from server.fanout import METRICS_EVERY_S, RedisBroadcaster
from server.limits import BodyLimit
from server.metrics import Measured
from server.routes import (
    customers,
    docs,
    handoffs,
    health,
    kb,
    live,
    payments,
    scenarios,
    sessions,
    voice,
)
from tools.base import Systems
from tools.kb.retriever import Retriever

if TYPE_CHECKING:
    from copilot.engine import Engine

log = logging.getLogger("copilot.server")


def _load(deps: CopilotDeps) -> None:
    deps.engine().warm_up()
    deps.warm = True


async def _share_metrics(deps: CopilotDeps) -> None:
    """Every few seconds, this worker's series go to Redis for whichever worker is scraped."""
    broadcaster = deps.broadcaster
    if not isinstance(broadcaster, RedisBroadcaster):
        return
    while True:
        with contextlib.suppress(RedisError, OSError):  # a scrape then shows this worker alone
            await broadcaster.share_metrics(deps.metrics.worker, health.own_metrics(deps))
        await asyncio.sleep(METRICS_EVERY_S)


def create_app(
    settings: Settings | None = None,
    systems: Systems | None = None,
    retriever: Retriever | None = None,
    engine: Engine | None = None,
    keys: KeyRing | None = None,
) -> FastAPI:
    """Build the app; tests pass their own settings, systems, engine or keys."""
    s = settings or load_settings()
    if keys is None and s.api_keys_file is None:
        demo_keys(default_path(s.data_dir))  # the same file `copilot serve` makes and prints
    ring = keys or KeyRing.load(s.api_keys_file or default_path(s.data_dir))
    deps = CopilotDeps(
        settings=s,
        systems=engine.deps.systems if engine else systems or build_systems(s),
        keys=ring,
        _retriever=retriever,
        _engine=engine,
    )
    if s.redis_url:  # every worker's subscribers read every session's updates from Redis
        deps.broadcaster = RedisBroadcaster(s.redis_url)
        deps.lease = deps.broadcaster.lease()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        if keys is None and s.api_keys_file is None:
            # Never the keys themselves: logs are read by more people than keys should be.
            log.warning("demo API keys (tenant brightwave) are in %s", default_path(s.data_dir))
        # Models load off the event loop; /healthz answers meanwhile, /readyz once done.
        loading = asyncio.create_task(asyncio.to_thread(_load, deps))
        sharing = asyncio.create_task(_share_metrics(deps))
        yield
        sharing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sharing
        await loading
        await deps.engine().settle()
        await deps.systems.aclose()
        if isinstance(deps.broadcaster, RedisBroadcaster):
            await deps.broadcaster.aclose()

    app = FastAPI(
        title="Agent-assist copilot",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,  # served by server.routes.docs, with no CDN
        redoc_url=None,
    )
    app.state.deps = deps
    logs.install()
    errors.install(app)
    for router in (health, sessions, live, voice, payments, handoffs, customers, kb, scenarios):
        app.include_router(router.router)
    docs.install(app)
    app.add_middleware(BodyLimit)
    app.add_middleware(Measured, metrics=deps.metrics)
    return app
