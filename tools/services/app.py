"""One FastAPI app per demo system: auth, injected latency and errors, JSON errors."""

from __future__ import annotations

import asyncio
import hmac
import logging
import random
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Literal, cast

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from tools.actions import ActionSystem
from tools.base import BillingSystem, CrmSystem, OrdersSystem
from tools.errors import CopilotError, InvalidInput
from tools.services.routes import actions_router, billing_router, crm_router, orders_router
from tools.sql import SqlBilling, SqlCrm, SqlOrders
from tools.sql.actions import SqlActions
from tools.sql.engine import make_engine, sqlite_url

SystemName = Literal["crm", "billing", "orders"]
SYSTEMS: tuple[SystemName, ...] = ("crm", "billing", "orders")
DEFAULT_PORTS: Mapping[str, int] = MappingProxyType({"crm": 8101, "billing": 8102, "orders": 8103})
MAX_PATH = 512
MAX_QUERY = 2048

_log = logging.getLogger(__name__)


def error_response(
    status: int, code: str, message: str, *, field: str | None = None
) -> JSONResponse:
    """The one error shape every service answers with: {"error": {"code", "message"}}."""
    body = {"code": code, "message": message}
    if field is not None:
        body["field"] = field
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse({"error": body}, status_code=status, headers=headers)


class _Gate:
    """Size limits, bearer auth, injected latency and failures, and a last-resort 500."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        system: str,
        latency_ms: float,
        error_rate: float,
        token: str | None,
        seed: int,
    ) -> None:
        self.app = app
        self.system = system
        self.latency_s = latency_ms / 1000
        self.error_rate = error_rate
        self.expected = None if token is None else f"Bearer {token}".encode()
        self.rng = random.Random(seed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(scope.get("raw_path") or b"") > MAX_PATH or len(scope["query_string"]) > MAX_QUERY:
            limits = f"at most {MAX_PATH} characters of path and {MAX_QUERY} of query"
            await error_response(414, "request_too_long", f"URL too long: {limits}")(
                scope, receive, send
            )
            return
        if path != "/healthz":
            if self.expected is not None and not self._authorized(scope):
                reply = error_response(401, "unauthorized", "missing or wrong bearer token")
                await reply(scope, receive, send)
                return
            if path.startswith("/v1/"):
                if self.latency_s > 0:
                    await asyncio.sleep(self.latency_s)
                if self.error_rate > 0 and self.rng.random() < self.error_rate:
                    message = f"{self.system}: injected failure, try again"
                    await error_response(503, "system_unavailable", message)(scope, receive, send)
                    return
        await self._guarded(scope, receive, send)

    def _authorized(self, scope: Scope) -> bool:
        given = dict(scope["headers"]).get(b"authorization", b"")
        return self.expected is not None and hmac.compare_digest(given, self.expected)

    async def _guarded(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception:
            # The traceback goes to the service log, never into a response body.
            _log.exception("%s: unhandled error on %s", self.system, scope["path"])
            if started:
                raise
            message = f"{self.system}: internal error; see the service log"
            await error_response(500, "internal_error", message)(scope, receive, send)


async def _copilot_error(_request: Request, exc: Exception) -> Response:
    error = cast(CopilotError, exc)
    field = error.field if isinstance(error, InvalidInput) else None
    return error_response(error.status_code, error.code, error.message, field=field)


async def _validation_error(_request: Request, exc: Exception) -> Response:
    first = cast(RequestValidationError, exc).errors()[0]
    name = str(first.get("loc", ("request",))[-1])
    # Only pydantic's message: echoing the input could send back 10,000 hostile characters.
    message = f"{name}: {first.get('msg', 'is invalid')}"
    return error_response(400, "invalid_input", message, field=name)


async def _http_error(_request: Request, exc: Exception) -> Response:
    status = cast(HTTPException, exc).status_code
    if status == 404:
        return error_response(404, "unknown_route", "no such route on this service")
    if status == 405:
        return error_response(405, "method_not_allowed", "this route does not take that method")
    return error_response(status, "http_error", str(cast(HTTPException, exc).detail))


def create_system_app(
    system: SystemName,
    backend: CrmSystem | BillingSystem | OrdersSystem,
    *,
    actions: ActionSystem | None = None,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    token: str | None = None,
    seed: int = 0,
) -> FastAPI:
    """One system's backend as a versioned JSON API, plus an open GET /healthz.

    Read-only unless `actions` is given: then billing and orders also take their write actions.
    """
    if not 0.0 <= error_rate <= 1.0:
        raise ValueError("error_rate must be between 0 and 1")
    if latency_ms < 0:
        raise ValueError("latency_ms must not be negative")
    app = FastAPI(title=f"Brightwave {system}", version="1", docs_url=None, redoc_url=None)
    if system == "crm":
        app.include_router(crm_router(cast(CrmSystem, backend)))
    elif system == "billing":
        app.include_router(billing_router(cast(BillingSystem, backend)))
        if actions is not None:
            app.include_router(actions_router(actions, "billing"))
    elif system == "orders":
        app.include_router(orders_router(cast(OrdersSystem, backend)))
        if actions is not None:
            app.include_router(actions_router(actions, "orders"))
    else:
        raise ValueError(f"unknown system {system!r}; expected one of {', '.join(SYSTEMS)}")

    @app.get("/healthz")
    async def healthz() -> dict[str, str]:
        return {"status": "ok", "system": system}

    app.add_exception_handler(CopilotError, _copilot_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_middleware(
        _Gate, system=system, latency_ms=latency_ms, error_rate=error_rate, token=token, seed=seed
    )
    return app


def system_apps(
    data_dir: Path, *, latency_ms: float, error_rate: float, token: str | None
) -> dict[str, ASGIApp]:
    engines = {name: make_engine(sqlite_url(data_dir, name)) for name in SYSTEMS}
    backends: dict[SystemName, CrmSystem | BillingSystem | OrdersSystem] = {
        "crm": SqlCrm(engines["crm"]),
        "billing": SqlBilling(engines["billing"]),
        "orders": SqlOrders(engines["orders"]),
    }
    # The write actions share the read backends' engines, so a read sees a write at once.
    actions = SqlActions(engines["billing"], engines["orders"])
    return {
        name: create_system_app(
            name,
            backends[name],
            actions=actions,
            latency_ms=latency_ms,
            error_rate=error_rate,
            token=token,
        )
        for name in SYSTEMS
    }
