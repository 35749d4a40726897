"""API keys with a role and a tenant: who may do what, and to whose sessions.

Keys come from a YAML file (`COPILOT_API_KEYS_FILE`: `key: {role, tenant, name}`); with none
configured the server makes one key per role for the demo tenant and prints them.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request
from pydantic import BaseModel, Field, ValidationError
from starlette.requests import HTTPConnection

from copilot.demo_keys import Role
from copilot.yamlfile import read_yaml
from tools.errors import ConfigurationError, CopilotError


class Unauthorized(CopilotError):
    status_code = 401
    code = "unauthorized"


class Forbidden(CopilotError):
    status_code = 403
    code = "forbidden"


class KeySpec(BaseModel):
    role: Role
    tenant: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=128)


@dataclass(frozen=True)
class Principal:
    """Who is calling: a named agent, bot or admin of one tenant."""

    name: str
    role: Role
    tenant: str


class KeyRing:
    def __init__(self, keys: dict[str, KeySpec]) -> None:
        if any(len(k) < 16 for k in keys):
            raise ConfigurationError("API keys must be at least 16 characters long")
        self._keys = keys

    @classmethod
    def load(cls, path: Path) -> KeyRing:
        data = read_yaml(path, "api keys")
        if not isinstance(data, dict) or not data:
            raise ConfigurationError(f"{path}: expected a mapping of key to {{role, tenant, name}}")
        try:
            return cls({str(k): KeySpec.model_validate(v) for k, v in data.items()})
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigurationError(f"{path}: {where}: {err['msg']}") from None

    def by_role(self) -> dict[str, str]:
        return {spec.role: key for key, spec in self._keys.items()}

    def find(self, presented: str) -> Principal | None:
        for key, spec in self._keys.items():
            if hmac.compare_digest(key.encode(), presented.encode()):
                return Principal(spec.name, spec.role, spec.tenant)
        return None


def principal(request: HTTPConnection) -> Principal:
    """The caller, from `Authorization: Bearer KEY` (or ?access_token= for EventSource)."""
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    token = token or request.query_params.get("access_token", "")
    if not token:
        raise Unauthorized("send an API key: Authorization: Bearer <key>")
    ring: KeyRing = request.app.state.deps.keys
    found = ring.find(token)
    if found is None:
        raise Unauthorized("unknown API key")
    return found


def allow(*roles: Role) -> Callable[[Request], Principal]:
    """A dependency that admits only these roles."""

    def check(request: Request) -> Principal:
        who = principal(request)
        if who.role not in roles:
            raise Forbidden(f"the {who.role} role may not do this (allowed: {', '.join(roles)})")
        return who

    return check


# Who may do what: read a tenant's sessions, act on them, or only send events in.
READ_ROLES: tuple[Role, ...] = ("agent", "supervisor", "qa", "admin")
Reader = Annotated[Principal, Depends(allow(*READ_ROLES))]
Writer = Annotated[Principal, Depends(allow("agent", "supervisor", "admin"))]
Sender = Annotated[Principal, Depends(allow("agent", "bot", "supervisor", "admin"))]
