"""Liveness, readiness, metrics, and the static pages (console, widget, iframe panel)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from copilot import __version__
from server.deps import DepsDep
from server.fanout import RedisBroadcaster

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/healthz")
async def healthz(deps: DepsDep) -> dict[str, str | int]:
    """Answers while the process serves; names the backend in use and this worker."""
    return {
        "status": "ok",
        "version": __version__,
        "backend": deps.settings.backend,
        "worker": os.getpid(),
    }


@router.get("/readyz")
async def readyz(deps: DepsDep) -> JSONResponse:
    """Ready once this worker's engine (models, knowledge base, session log) is loaded and,
    when streams fan out through Redis, Redis answers."""
    engine = deps.engine_ready()
    redis = "not used"
    if isinstance(deps.broadcaster, RedisBroadcaster):
        redis = "ok" if await deps.broadcaster.reachable() else "unreachable"
    ready = engine and redis != "unreachable"
    body = {
        "status": "ready" if ready else "starting" if not engine else "degraded",
        "engine": "ready" if engine else "loading",
        "redis": redis,
        "llm": bool(deps.settings.llm_base_url),
        "worker": os.getpid(),
    }
    return JSONResponse(body, status_code=200 if ready else 503)


@router.get("/metrics", response_class=PlainTextResponse)
async def metrics(deps: DepsDep) -> PlainTextResponse:
    """Prometheus text format."""
    gauges = {
        "copilot_stream_subscribers": float(deps.broadcaster.subscribers()),
        "copilot_stream_dropped_total": float(deps.broadcaster.dropped),
        "copilot_engine_ready": 1.0 if deps.engine_ready() else 0.0,
    }
    return PlainTextResponse(deps.metrics.render(gauges), media_type="text/plain; version=0.0.4")


@router.get("/", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


@router.get("/panel", include_in_schema=False)
async def panel_page() -> FileResponse:
    return FileResponse(STATIC / "panel.html", media_type="text/html")
