"""The API key file (`key: {role, tenant, name}`), read and checked at start-up, and the demo's.

Demo keys are one per role for the demo tenant, kept in a file so a restart keeps them.
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from copilot.yamlfile import read_yaml
from tools.errors import ConfigurationError, first_problem

Role = Literal["agent", "bot", "supervisor", "qa", "admin"]
ROLES: tuple[Role, ...] = ("agent", "bot", "supervisor", "qa", "admin")
DEMO_TENANT = "brightwave"


MIN_KEY = 16


class KeySpec(BaseModel):
    role: Role
    tenant: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    name: str = Field(min_length=1, max_length=128)


def read_keys(path: Path) -> dict[str, KeySpec]:
    """Every key in the file; ConfigurationError naming the file and the entry otherwise."""
    data = read_yaml(path, "api keys")
    if not isinstance(data, dict) or not data:
        raise ConfigurationError(f"{path}: expected a mapping of key to {{role, tenant, name}}")
    if any(len(str(k)) < MIN_KEY for k in data):
        raise ConfigurationError(f"{path}: API keys must be at least {MIN_KEY} characters long")
    try:
        return {str(k): KeySpec.model_validate(v) for k, v in data.items()}
    except ValidationError as exc:
        raise ConfigurationError(f"{path}: {first_problem(exc)}") from None


def default_path(data_dir: Path) -> Path:
    return Path(data_dir).parent / "demo-keys.yaml"


def demo_keys(path: Path) -> dict[str, str]:
    """The key of each role, made once and written to `path` (mode 0600) for the server to load."""
    if path.is_file():
        found = yaml.safe_load(path.read_text()) or {}
        return {str(v["role"]): str(k) for k, v in found.items()}
    keys: dict[str, str] = {role: f"demo-{role}-{secrets.token_urlsafe(12)}" for role in ROLES}
    body = {k: {"role": r, "tenant": DEMO_TENANT, "name": f"demo {r}"} for r, k in keys.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    path.chmod(0o600)
    return keys
