"""Liveness and the agent console page."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import FileResponse

from copilot import __version__
from server.deps import DepsDep

router = APIRouter()
STATIC = Path(__file__).resolve().parent.parent / "static"


@router.get("/healthz")
async def healthz(deps: DepsDep) -> dict[str, str]:
    """Answers while the process serves; names the backend in use."""
    return {"status": "ok", "version": __version__, "backend": deps.settings.backend}


@router.get("/", include_in_schema=False)
async def console_page() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")
