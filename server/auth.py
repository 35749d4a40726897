"""API keys with a role and a tenant: who may do what, and to whose sessions.

Keys come from a YAML file (`COPILOT_API_KEYS_FILE`, read by copilot/keys.py); with none
configured the demo keys file is used (made by `copilot serve` or the app factory).
"""

from __future__ import annotations

import hmac
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from copilot.keys import MIN_KEY, KeySpec, Role, read_keys
from tools.errors import ConfigurationError, CopilotError


class Unauthorized(CopilotError):
    status_code = 401
    code = "unauthorized"


class Forbidden(CopilotError):
    status_code = 403
    code = "forbidden"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a named agent, bot or admin of one tenant."""

    name: str
    role: Role
    tenant: str


class KeyRing:
    def __init__(self, keys: dict[str, KeySpec]) -> None:
        if any(len(k) < MIN_KEY for k in keys):
            raise ConfigurationError(f"API keys must be at least {MIN_KEY} characters long")
        self._keys = keys

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        return cls(read_keys(path))

    def by_role(self) -> dict[str, str]:
        return {spec.role: key for key, spec in self._keys.items()}

    def find(self, presented: str) -> Principal | None:
        for key, spec in self._keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                return Principal(spec.name, spec.role, spec.tenant)
        return None


# How keys travel, for the OpenAPI spec and Swagger's Authorize button; principal() reads them.
BEARER = HTTPBearer(
    scheme_name="bearer", description="`Authorization: Bearer <API key>`", auto_error=False
)
ACCESS_TOKEN = APIKeyQuery(
    name="access_token",
    scheme_name="access_token",
    description="the API key in the URL, on the stream routes only",
    auto_error=False,
)
HeaderKey = Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)]
QueryKey = Annotated[str | None, Depends(ACCESS_TOKEN)]


def principal(request: HTTPConnection, query: bool = False) -> Principal:
    """The caller, from `Authorization: Bearer KEY`; on streams also ?access_token=, since a
    browser's EventSource and WebSocket cannot send headers. Anywhere else a key in the URL
    is refused: URLs end up in logs, histories and proxies."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token and "access_token" in request.query_params:
        if not query:
            raise Unauthorized(
                "?access_token= is accepted on the stream routes only; "
                "send Authorization: Bearer <key>"
            )
        token = request.query_params["access_token"]
    if not token:
        raise Unauthorized("send an API key: Authorization: Bearer <key>")
    ring: KeyRing = request.app.state.deps.keys
    found = ring.find(token)
    if found is None:
        raise Unauthorized("unknown API key")
    return found


def allow(*roles: Role, query: bool = False) -> Callable[..., Awaitable[Principal]]:
    """A dependency that admits only these roles (query: the key may come as ?access_token=)."""

    # async, though it awaits nothing: FastAPI runs a plain def dependency on its thread pool,
    # a thread hop per request that costs more than the check itself under load.
    async def check(request: Request, _: HeaderKey) -> Principal:
        who = principal(request, query)
        if who.role not in roles:
            raise Forbidden(f"the {who.role} role may not do this (allowed: {', '.join(roles)})")
        return who

    async def check_stream(request: Request, key: HeaderKey, _: QueryKey) -> Principal:
        return await check(request, key)

    return check_stream if query else check


# Who may do what: read a tenant's sessions, act on them, or only send events in.
READ_ROLES: tuple[Role, ...] = ("agent", "supervisor", "qa", "admin")
Reader = Annotated[Principal, Depends(allow(*READ_ROLES))]
StreamReader = Annotated[Principal, Depends(allow(*READ_ROLES, query=True))]
# Who may see a customer's own records (the 360, the journey): not QA, which reviews sessions.
CUSTOMER_ROLES: tuple[Role, ...] = ("agent", "supervisor", "admin")
CustomerReader = Annotated[Principal, Depends(allow(*CUSTOMER_ROLES))]
Writer = Annotated[Principal, Depends(allow("agent", "supervisor", "admin"))]
Sender = Annotated[Principal, Depends(allow("agent", "bot", "supervisor", "admin"))]
