"""Knowledge-base fixtures: one embedding model, an embedded Chroma and a `chroma run` server."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from chromadb.api import ClientAPI

from tools.kb.store import KnowledgeStore, connect

CHROMA = Path(sys.executable).with_name("chroma")


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on loopback, as `chroma run` starts it."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    path = tmp_path_factory.mktemp("chroma-server")
    proc = subprocess.Popen(
        [str(CHROMA), "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            pytest.fail("chroma run did not start")
        time.sleep(0.2)
    yield url
    proc.terminate()
    proc.wait(timeout=10)


@pytest.fixture(scope="session")
def embedded_client(tmp_path_factory: pytest.TempPathFactory) -> ClientAPI:
    return connect(tmp_path_factory.mktemp("chroma-embedded"))


@pytest.fixture(params=["embedded", "server"])
def store(request: pytest.FixtureRequest, embedded_client: ClientAPI) -> KnowledgeStore:
    """A fresh knowledge base in each kind of Chroma: the contract tests run against both."""
    client = (
        embedded_client
        if request.param == "embedded"
        else connect(url=request.getfixturevalue("chroma_url"))
    )
    return KnowledgeStore(client, f"t{uuid.uuid4().hex[:10]}")
