"""Run the demo systems (or any ASGI app) with uvicorn: threads for tests, or blocking."""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import signal
import socket
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from types import TracebackType

import httpx
import uvicorn
from starlette.types import ASGIApp

from tools.errors import ConfigurationError
from tools.services.app import DEFAULT_PORTS, SYSTEMS, system_apps

STARTUP_TIMEOUT_S = 10.0


class _Server(uvicorn.Server):
    """A uvicorn server that leaves signals to whoever runs several of them at once."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def _server(
    app: ASGIApp, host: str, port: int, kind: type[uvicorn.Server] = _Server
) -> uvicorn.Server:
    config = uvicorn.Config(
        app, host=host, port=port, lifespan="auto", access_log=False, log_level="warning"
    )
    return kind(config)


def _bind(name: str, host: str, port: int) -> socket.socket:
    # Binding before uvicorn starts is what tells us the port the OS picked for port 0.
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError as exc:
        raise ConfigurationError(f"{name}: cannot listen on {host}:{port} ({exc})") from None
    return sock


def _url(host: str, sock: socket.socket) -> str:
    address, port = sock.getsockname()[:2]
    if ipaddress.ip_address(address).is_unspecified:
        # Listening on every interface; callers on this machine reach it over loopback.
        address = "::1" if ":" in address else "127.0.0.1"
    return f"http://[{address}]:{port}" if ":" in address else f"http://{address}:{port}"


class RunningServices:
    """HTTP services running in background threads; stop() (or leaving `with`) ends them."""

    def __init__(self) -> None:
        self.urls: dict[str, str] = {}
        self._servers: list[tuple[uvicorn.Server, threading.Thread]] = []

    def stop(self) -> None:
        """Ask every server to exit and wait for its thread."""
        for server, _ in self._servers:
            server.should_exit = True
        for _, thread in self._servers:
            thread.join(timeout=5.0)
        self._servers.clear()

    def __enter__(self) -> RunningServices:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def start_apps(
    apps: Mapping[str, ASGIApp],
    *,
    host: str = "127.0.0.1",
    ports: Mapping[str, int] | None = None,
    kind: type[uvicorn.Server] = _Server,
) -> RunningServices:
    """Serve each ASGI app with uvicorn in a thread (port 0 or none: a free one) once healthy.

    kind: the uvicorn.Server subclass, e.g. one that ends live streams when told to stop (in a
    thread, uvicorn installs no signal handlers whatever the class).
    """
    running = RunningServices()
    try:
        for name, app in apps.items():
            sock = _bind(name, host, (ports or {}).get(name, 0))
            server = _server(app, host, sock.getsockname()[1], kind)
            thread = threading.Thread(
                target=server.run, kwargs={"sockets": [sock]}, name=f"svc-{name}", daemon=True
            )
            thread.start()
            running._servers.append((server, thread))
            running.urls[name] = _url(host, sock)
        for (name, url), (_, thread) in zip(running.urls.items(), running._servers, strict=True):
            _wait_healthy(name, url, thread)
    except BaseException:
        running.stop()
        raise
    return running


def _wait_healthy(name: str, url: str, thread: threading.Thread) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:
        with contextlib.suppress(httpx.HTTPError):
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        if not thread.is_alive() or time.monotonic() > deadline:
            raise ConfigurationError(f"{name}: no healthy answer from {url} after startup")
        time.sleep(0.02)


def start_services(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    token: str | None = None,
) -> RunningServices:
    """The three demo systems over data_dir, served in background threads (tests, benchmarks)."""
    apps = system_apps(data_dir, latency_ms=latency_ms, error_rate=error_rate, token=token)
    return start_apps(apps, host=host, ports=ports)


def run_services(
    data_dir: Path,
    *,
    host: str = "127.0.0.1",
    ports: dict[str, int] | None = None,
    latency_ms: float = 0.0,
    error_rate: float = 0.0,
    token: str | None = None,
) -> None:
    """Serve the three demo systems in this process until SIGINT or SIGTERM."""
    chosen = {**DEFAULT_PORTS, **(ports or {})}
    apps = system_apps(data_dir, latency_ms=latency_ms, error_rate=error_rate, token=token)
    pairs: list[tuple[uvicorn.Server, socket.socket]] = []
    try:
        for name in SYSTEMS:
            sock = _bind(name, host, chosen[name])
            pairs.append((_server(apps[name], host, chosen[name]), sock))
        asyncio.run(_serve_all(pairs))
    finally:
        for _, sock in pairs:
            sock.close()


async def _serve_all(pairs: list[tuple[uvicorn.Server, socket.socket]]) -> None:
    loop = asyncio.get_running_loop()

    def stop() -> None:
        for server, _ in pairs:
            server.force_exit = server.should_exit
            server.should_exit = True

    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError, RuntimeError):
            loop.add_signal_handler(sig, stop)
    await asyncio.gather(*(server.serve(sockets=[sock]) for server, sock in pairs))
