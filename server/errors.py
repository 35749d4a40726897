"""Errors leave as {"error": {"code", "message"}}: the project's errors mapped to HTTP once."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from server.limits import MAX_BODY
from tools.errors import CopilotError

log = logging.getLogger("copilot.server")
# Bots' SDKs are promised a 422 naming the field paths for a packet with wrong types.
UNPROCESSABLE = frozenset({"/v1/handoffs"})


class ErrorDetail(BaseModel):
    code: str = Field(description="stable and machine-readable, e.g. invalid_input, not_found")
    message: str = Field(description="for a person: what was wrong, and often what to send")


class ErrorBody(BaseModel):
    """Every error the API answers, whatever its status."""

    error: ErrorDetail


# What each status means here, with the codes it carries, as the OpenAPI spec tells it.
MEANING: dict[int | str, str] = {
    400: "invalid_input: a path, query, header or body value is malformed; the message names it",
    401: "unauthorized: no API key, an unknown one, or ?access_token= off the stream routes",
    403: "forbidden: the key's role may not do this, or the session is another tenant's",
    404: "not_found: nothing by that id for this tenant",
    409: "session_closed: the session is closed to changes; event_conflict (events): that "
    "event_id came before with other content",
    413: f"too_large: the request body is over {MAX_BODY // 1024} KiB",
    422: "invalid_packet: a field has the wrong type; the message names its path",
    503: "system_unavailable or session_busy: the session lease (Redis) could not be had; retry",
    "default": "any other error (405 method_not_allowed, 500 internal_error), in the same form",
}


def answers(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """A route's `responses=` for the errors its own logic gives (the rest: see declare)."""
    return {s: {"model": ErrorBody, "description": MEANING[s]} for s in statuses}


def declare(spec: dict[str, Any]) -> dict[str, Any]:
    """Add to FastAPI's spec the errors every operation of a kind gives, all in ErrorBody, and
    drop its 422 HTTPValidationError: this app answers a validation error as a 400 (a 422 on
    the routes in UNPROCESSABLE), in the same envelope as every other error."""
    schemas = spec.setdefault("components", {}).setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs"))
    schemas["ErrorBody"] = body
    ref = {"$ref": "#/components/schemas/ErrorBody"}
    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            responses = operation.setdefault("responses", {})
            fastapi_422 = responses.get("422", {}).get("content", {}).get("application/json", {})
            if fastapi_422.get("schema", {}).get("$ref", "").endswith("/HTTPValidationError"):
                del responses["422"]
            params = operation.get("parameters", [])
            body_in = "requestBody" in operation
            statuses: list[int | str] = []
            if params or body_in:
                statuses.append(422 if method == "post" and path in UNPROCESSABLE else 400)
            if body_in:
                statuses.append(413)
            if any(p.get("in") == "path" for p in params):
                statuses.append(404)
            if operation.get("security"):
                statuses += [401, 403]
            for status in [*statuses, "default"]:
                entry = responses.setdefault(str(status), {"description": MEANING[status]})
                entry.setdefault("content", {"application/json": {"schema": dict(ref)}})
    return spec


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
