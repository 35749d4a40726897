"""Throw-away servers on loopback for the tests and the benchmarks: a PostgreSQL cluster and a
Redis, where they are installed (Debian packages; the Makefile installs them when missing), and
a Chroma server as `chroma run` starts it (chromadb's own command, in the virtual environment)."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

# Beside the interpreter rather than on PATH, so it is the chromadb this environment imports.
CHROMA = Path(sys.executable).with_name("chroma")


def pg_bin() -> Path | None:
    """The newest installed PostgreSQL server's bin folder, or None."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if found:
        return found[-1].parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _as_postgres(cmd: list[str]) -> list[str]:
    # initdb and postgres refuse to run as root; hand them to the postgres user when we are root.
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return cmd


def free_port() -> int:
    """A loopback port nobody holds now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop(proc: subprocess.Popen[bytes], timeout_s: float = 30.0) -> None:
    """Terminate a server we started; kill it if it does not go in time."""
    if proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _run(binaries: Path, tool: str, *args: str, check: bool = True) -> None:
    subprocess.run(  # noqa: S603 - the installed server's own tools, fixed arguments
        _as_postgres([str(binaries / tool), *args]), check=check, capture_output=True, timeout=60
    )


@contextmanager
def cluster(databases: list[str]) -> Iterator[dict[str, str]]:
    """Start a fresh cluster with the given databases; yields SQLAlchemy URLs; removes it after."""
    binaries = pg_bin()
    if binaries is None:
        raise FileNotFoundError("no PostgreSQL server installed (initdb not found)")
    root = Path(tempfile.mkdtemp(prefix="copilot-pg-"))
    data = root / "data"
    data.mkdir()
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
        shutil.chown(data, "postgres")
    port = str(free_port())
    _run(binaries, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
    options = f"-p {port} -k {data} -h 127.0.0.1"
    _run(binaries, "pg_ctl", "-D", str(data), "-w", "-l", str(data / "log"), "-o", options, "start")
    try:
        for name in databases:
            _run(binaries, "createdb", "-h", "127.0.0.1", "-p", port, "-U", "postgres", name)
        yield {name: f"postgresql+psycopg://postgres@127.0.0.1:{port}/{name}" for name in databases}
    finally:
        _run(binaries, "pg_ctl", "-D", str(data), "-m", "immediate", "stop", check=False)
        shutil.rmtree(root, ignore_errors=True)


@contextmanager
def redis_server() -> Iterator[str]:
    """A fresh redis-server, nothing persisted; yields its URL; stops it after."""
    binary = shutil.which("redis-server")
    if binary is None:
        raise FileNotFoundError("no Redis server installed (redis-server not found)")
    folder = Path(tempfile.mkdtemp(prefix="copilot-redis-"))
    port = free_port()
    args = [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
    proc = subprocess.Popen(  # noqa: S603 - a fixed command line
        [*args, "--dir", str(folder)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def chroma_server(path: Path | None = None, timeout_s: float = 30.0) -> Iterator[str]:
    """`chroma run` on a free loopback port, persisting in path (else a temp folder, removed
    after); yields its URL once the heartbeat answers; stops it after, also on error."""
    if not CHROMA.is_file():
        raise FileNotFoundError(f"{CHROMA} not found: chromadb's `chroma` command is needed")
    folder = path or Path(tempfile.mkdtemp(prefix="copilot-chroma-"))
    port = free_port()
    proc = subprocess.Popen(  # noqa: S603 - chromadb's own command, fixed arguments
        [str(CHROMA), "run", "--path", str(folder), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not _heartbeat(url):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"chroma run did not start on port {port} (exit {proc.poll()})")
            time.sleep(0.2)
        yield url
    finally:
        stop(proc, 10.0)
        if path is None:
            shutil.rmtree(folder, ignore_errors=True)


def _heartbeat(url: str) -> bool:
    try:
        return httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == httpx.codes.OK
    except httpx.HTTPError:
        return False
