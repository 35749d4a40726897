"""`copilot systems`: run the demo silos as their own HTTP services."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from server.commands.common import console, fail

app = typer.Typer(help="The demo CRM, billing and order systems as separate HTTP services.")


@app.command("serve")
def serve_cmd(
    data_dir: Annotated[
        Path,
        typer.Option(
            "--data-dir",
            envvar="COPILOT_DATA_DIR",
            help="folder of the generated SQLite files (crm.db, billing.db, orders.db)",
        ),
    ] = Path("var/data"),
    host: str = "127.0.0.1",
    crm_port: int = 8101,
    billing_port: int = 8102,
    orders_port: int = 8103,
    latency_ms: Annotated[float, typer.Option(help="delay added to every request")] = 0.0,
    error_rate: Annotated[float, typer.Option(help="share of requests answered 503, 0 to 1")] = 0.0,
    token: Annotated[str | None, typer.Option(help="require this bearer token")] = None,
) -> None:
    """Serve each system on its own port, optionally slow and flaky, for the REST backend."""
    from tools.errors import CopilotError
    from tools.services import run_services

    if not 0.0 <= error_rate <= 1.0:
        raise fail("--error-rate must be between 0 and 1")
    if not 0.0 <= latency_ms <= 60_000:
        raise fail("--latency-ms must be between 0 and 60000")
    ports = {"crm": crm_port, "billing": billing_port, "orders": orders_port}
    for name, port in ports.items():
        if not 1 <= port <= 65535:
            raise fail(f"--{name}-port must be between 1 and 65535")
    console.print(", ".join(f"{k} on http://{host}:{v}" for k, v in ports.items()))
    try:
        run_services(
            data_dir,
            host=host,
            ports=ports,
            latency_ms=latency_ms,
            error_rate=error_rate,
            token=token,
        )
    except CopilotError as exc:
        raise fail(exc.message) from None
