"""Demo API keys, one per role for the demo tenant, kept in a file so a restart keeps them."""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Literal

import yaml

Role = Literal["agent", "bot", "supervisor", "qa", "admin"]
ROLES: tuple[Role, ...] = ("agent", "bot", "supervisor", "qa", "admin")
DEMO_TENANT = "brightwave"


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
