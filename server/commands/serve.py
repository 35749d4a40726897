"""`copilot serve`: the copilot's HTTP API and agent console."""

from __future__ import annotations

import os
import socket
from typing import Annotated, Any

import typer
import uvicorn
from uvicorn.supervisors import Multiprocess

from copilot import sessions_db
from copilot.keys import default_path, demo_keys, read_keys
from copilot.storage import embedded
from server.commands.common import console, fail, settings
from tools.errors import CopilotError

KEEP_ALIVE_S = 75
# How long a stop waits for requests in flight once every stream has been ended.
DRAIN_S = 5


class Draining(uvicorn.Server):
    """Ends every live stream first when told to stop: uvicorn's own shutdown waits for open
    connections, and a stream stays open until its client leaves."""

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        app: Any = self.config.loaded_app
        while app is not None and not hasattr(app, "state"):
            app = getattr(app, "app", None)  # through uvicorn's middleware to the FastAPI app
        deps = getattr(getattr(app, "state", None), "deps", None)
        if deps is not None:
            deps.broadcaster.close()
        await super().shutdown(sockets)


def serve(
    host: Annotated[str | None, typer.Option(help="default COPILOT_HOST or 127.0.0.1")] = None,
    port: Annotated[int | None, typer.Option(help="default COPILOT_PORT or 8000")] = None,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="worker processes on one port (needs Redis)")
    ] = 1,
) -> None:
    """Serve the API and the agent console until interrupted."""
    s = settings()
    if workers > 1 and not s.redis_url:
        raise fail(
            "--workers above 1 needs COPILOT_REDIS_URL: a stream on one worker must see the "
            "updates another worker applies"
        )
    from copilot.runtime import check_own_models  # the engine's imports: only when serving

    try:  # a database or model the workers cannot use is one line here, not a traceback each
        sessions_db.require_current(s.sessions_database())
        check_own_models(s)
    except CopilotError as exc:
        raise fail(exc.message) from None
    bind_host, bind_port = host or s.host, port or s.port
    base = f"http://{bind_host}:{bind_port}"
    if s.api_keys_file is None:
        path = default_path(s.data_dir)
        keys = demo_keys(path)
        os.environ["COPILOT_API_KEYS_FILE"] = str(path)
        console.print(f"demo API keys (tenant brightwave), kept in {path}:")
        for role, key in keys.items():
            console.print(f"  {role:<10} {key}")
        console.print(f"agent console on {base}/?token={keys['agent']}  (health: /healthz)")
    else:
        try:
            read_keys(s.api_keys_file)  # a bad key file is one line here, not a traceback later
        except CopilotError as exc:
            raise fail(exc.message) from None
        console.print(f"agent console on {base}/  (keys from {s.api_keys_file}; health: /healthz)")
    # By import string: the app factory loads only when serving.
    config = uvicorn.Config(
        "server.app:create_app",
        factory=True,
        host=bind_host,
        port=bind_port,
        log_level="info",
        # Longer than a proxy's or client's idle timeout (often 60 s): with uvicorn's 5 s, a
        # console posting every few seconds races the server closing its idle connection
        # (ReadError on the client; seen at 500 sessions in `copilot bench load`).
        timeout_keep_alive=KEEP_ALIVE_S,
        timeout_graceful_shutdown=DRAIN_S,
        workers=workers,
    )
    if workers == 1:
        Draining(config).run()
        return
    # Several processes on one socket: the tables exist before any worker opens them, and each
    # worker's streams end within DRAIN_S of a stop (uvicorn's own workers, not Draining).
    if embedded(s.sessions_database()):
        sessions_db.upgrade(s.sessions_database())
    Multiprocess(config, sockets=[config.bind_socket()]).run()
