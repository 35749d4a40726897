"""`copilot serve`: the copilot's HTTP API and agent console."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from copilot.commands.common import console, settings


def serve(
    host: Annotated[str | None, typer.Option(help="default COPILOT_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default COPILOT_PORT or 8000")] = None,
) -> None:
    """Serve the API and the agent console until interrupted."""
    s = settings()
    bind_host, bind_port = host or s.host, port or s.port
    console.print(f"agent console on http://{bind_host}:{bind_port}  (health: /healthz)")
    # By import string: copilot must not import the server package that sits above it.
    uvicorn.run(
        "server.app:create_app", factory=True, host=bind_host, port=bind_port, log_level="info"
    )
