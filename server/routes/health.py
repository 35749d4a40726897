"""Liveness, readiness, metrics, and the static pages (console, widget, iframe panel)."""

from __future__ import annotations

import os
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from copilot import __version__
from server.deps import CopilotDeps, DepsDep
from server.fanout import RedisBroadcaster
from server.metrics import Families, render

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


@router.get(
    "/readyz", responses={503: {"description": "not ready: the body says what is loading or down"}}
)
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
    """Prometheus text format, every series labelled with its worker; with several workers on
    one Redis, any worker's answer holds every live worker's series (shared every few seconds),
    so one scrape behind the load balancer sees them all."""
    mine = own_metrics(deps)
    others: list[Families] = []
    if isinstance(deps.broadcaster, RedisBroadcaster):
        others = await deps.broadcaster.others_metrics(deps.metrics.worker)
    return PlainTextResponse(render(mine, *others), media_type="text/plain; version=0.0.4")


def own_metrics(deps: CopilotDeps) -> Families:
    """This worker's series."""
    engine = deps._engine
    lease = deps.lease
    gauges = {
        "copilot_stream_subscribers": float(deps.broadcaster.subscribers()),
        "copilot_engine_ready": 1.0 if deps.engine_ready() else 0.0,
        "copilot_sessions_in_memory": float(engine.in_memory() if engine else 0),
    }
    counters = {
        "copilot_stream_dropped_total": float(deps.broadcaster.dropped),
        "copilot_session_rereads_total": float(engine.rereads if engine else 0),
        "copilot_session_refused_total": float(engine.refused if engine else 0),
        "copilot_lease_waits_total": float(lease.waits),
        "copilot_lease_lapsed_total": float(lease.lapsed),
    }
    return deps.metrics.families(gauges, counters)


@router.get("/", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@router.get("/widget.js", include_in_schema=False)
async def widget() -> FileResponse:
    return FileResponse(STATIC / "widget.js", media_type="text/javascript")


@router.get("/panel", include_in_schema=False)
async def panel_page() -> FileResponse:
    return FileResponse(STATIC / "panel.html", media_type="text/html")
