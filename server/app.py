"""The app factory: settings, systems and routes wired once, nothing done at import time."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from copilot import __version__
from copilot.settings import Settings, load_settings
from copilot.systems import build_systems
from server import errors
from server.deps import CopilotDeps
from server.routes import customers, health, kb
from tools.base import Systems
from tools.kb.retriever import Retriever


def create_app(
    settings: Settings | None = None,
    systems: Systems | None = None,
    retriever: Retriever | None = None,
) -> FastAPI:
    """Build the app; tests pass their own settings, systems or retriever."""
    s = settings or load_settings()
    deps = CopilotDeps(settings=s, systems=systems or build_systems(s), _retriever=retriever)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        yield
        await deps.systems.aclose()

    app = FastAPI(title="Agent-assist copilot", version=__version__, lifespan=lifespan)
    app.state.deps = deps
    errors.install(app)
    app.include_router(health.router)
    app.include_router(customers.router)
    app.include_router(kb.router)
    return app
