"""`copilot serve`: the copilot's HTTP API and agent console."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
import yaml

from copilot.commands.common import console, settings

ROLES = ("agent", "bot", "supervisor", "qa", "admin")


def demo_keys(path: Path) -> dict[str, str]:
    """One key per role for the demo tenant, kept in `path` so a restart keeps them."""
    if path.is_file():
        found = yaml.safe_load(path.read_text()) or {}
        return {str(v["role"]): str(k) for k, v in found.items()}
    keys = {role: f"demo-{role}-{secrets.token_urlsafe(12)}" for role in ROLES}
    body = {k: {"role": r, "tenant": "brightwave", "name": f"demo {r}"} for r, k in keys.items()}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(body, sort_keys=False))
    path.chmod(0o600)
    return keys


def serve(
    host: Annotated[str | None, typer.Option(help="default COPILOT_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default COPILOT_PORT or 8000")] = None,
) -> None:
    """Serve the API and the agent console until interrupted."""
    s = settings()
    bind_host, bind_port = host or s.host, port or s.port
    base = f"http://{bind_host}:{bind_port}"
    if s.api_keys_file is None:
        path = Path(s.data_dir).parent / "demo-keys.yaml"
        keys = demo_keys(path)
        os.environ["COPILOT_API_KEYS_FILE"] = str(path)
        console.print(f"demo API keys (tenant brightwave), kept in {path}:")
        for role, key in keys.items():
            console.print(f"  {role:<10} {key}")
        console.print(f"agent console on {base}/?token={keys['agent']}  (health: /healthz)")
    else:
        console.print(f"agent console on {base}/  (keys from {s.api_keys_file}; health: /healthz)")
    # By import string: copilot must not import the server package that sits above it.
    uvicorn.run(
        "server.app:create_app", factory=True, host=bind_host, port=bind_port, log_level="info"
    )
