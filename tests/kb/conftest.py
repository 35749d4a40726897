"""Knowledge-base fixtures: one embedding model, an embedded Chroma and a `chroma run` server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from chromadb.api import ClientAPI

from evals.servers import chroma_server
from tools.kb.store import KnowledgeStore, connect


@pytest.fixture(scope="session")
def chroma_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Chroma server on loopback, as `chroma run` starts it."""
    with chroma_server(tmp_path_factory.mktemp("chroma-server")) as url:
        yield url


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
