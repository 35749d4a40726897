"""Liveness, readiness, metrics, and the static pages (console, widget, iframe panel)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse

from copilot import __version__
from server.deps import DepsDep

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/healthz")
async def healthz(deps: DepsDep) -> dict[str, str]:
    """Answers while the process serves; names the backend in use."""
    return {"status": "ok", "version": __version__, "backend": deps.settings.backend}


@router.get("/readyz")
async def readyz(deps: DepsDep) -> JSONResponse:
    """Ready once the engine (models, knowledge base, session log) is loaded."""
    ready = deps.engine_ready()
    body = {"status": "ready" if ready else "starting", "llm": bool(deps.settings.llm_base_url)}
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
