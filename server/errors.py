"""Errors leave as {"error": {"code", "message"}}: the project's errors mapped to HTTP once."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from tools.errors import CopilotError

log = logging.getLogger("copilot.server")
# Bots' SDKs are promised a 422 naming the field paths for a packet with wrong types.
UNPROCESSABLE = frozenset({"/v1/handoffs"})


def error_body(code: str, message: str) -> dict[str, dict[str, str]]:
    return {"error": {"code": code, "message": message}}


def install(app: FastAPI) -> None:
    @app.exception_handler(CopilotError)
    async def copilot_error(_: Request, exc: CopilotError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
        parts = []
        for err in exc.errors():
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "path"))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        if request.method == "POST" and request.url.path in UNPROCESSABLE:
            return JSONResponse(error_body("invalid_packet", "; ".join(parts)), status_code=422)
        return JSONResponse(error_body("invalid_input", "; ".join(parts)), status_code=400)

    @app.exception_handler(HTTPException)
    async def http_error(_: Request, exc: HTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code)

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return JSONResponse(
            error_body("internal_error", "something went wrong; the error was logged"),
            status_code=500,
        )
