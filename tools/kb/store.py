"""Chroma storage: a persistent client on disk or a `chroma run` server, one live collection per KB.

Every ingest writes a new collection and then repoints the registry at it, so a failed ingest
never leaves a half-written index: readers keep the previous collection until the swap.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import chromadb
from chromadb.api import ClientAPI
from chromadb.api.models.Collection import Collection
from chromadb.api.types import Include
from chromadb.config import Settings

from tools.errors import ConfigurationError, InvalidInput
from tools.kb.chunking import indexed_text
from tools.kb.models import Chunk

REGISTRY = "copilot_kb_registry"
PAGE = 2000
_NAME_OK = set("abcdefghijklmnopqrstuvwxyz0123456789-_")


def connect(path: Path | None = None, url: str | None = None) -> ClientAPI:
    """A Chroma server when a URL is given, else a persistent client in `path`."""
    settings = Settings(anonymized_telemetry=False)
    if url:
        parsed = urlparse(url)
        if parsed.scheme not in ("http", "https") or not parsed.hostname:
            raise ConfigurationError(f"COPILOT_CHROMA_URL {url!r} must look like http://host:port")
        port = parsed.port or (443 if parsed.scheme == "https" else 8000)
        return chromadb.HttpClient(
            host=parsed.hostname, port=port, ssl=parsed.scheme == "https", settings=settings
        )
    if path is None:
        raise ConfigurationError("set COPILOT_KB_DIR or COPILOT_CHROMA_URL for the knowledge base")
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=settings)


def chunk_metadata(chunk: Chunk) -> dict[str, str | int | bool]:
    meta: dict[str, str | int | bool] = {
        "article_id": chunk.article_id,
        "title": chunk.title,
        "section": chunk.section,
        "url": chunk.url,
        "position": chunk.position,
        "text": chunk.text,
        "tokens": chunk.tokens,
        "product": chunk.product,
        "locale": chunk.locale,
        "tags": ",".join(chunk.tags),
        "channels": ",".join(chunk.channel),
        "content_hash": chunk.content_hash,
    }
    if chunk.script:
        meta["script"] = chunk.script
    # Chroma filters on scalar metadata only, so each channel becomes its own flag.
    for channel in chunk.channel:
        meta[f"ch_{channel}"] = True
    return meta


class KnowledgeStore:
    """One named knowledge base inside a Chroma client."""

    def __init__(self, client: ClientAPI, name: str = "brightwave") -> None:
        if not name or set(name) - _NAME_OK or len(name) > 40:
            raise InvalidInput("kb", "name must be 1-40 lower-case letters, digits, '-' or '_'")
        self.client = client
        self.name = name
        self._registry = client.get_or_create_collection(REGISTRY, embedding_function=None)

    def active_name(self) -> str | None:
        got = self._registry.get(ids=[self.name], include=["metadatas"])
        metas = got.get("metadatas") or []
        return str(metas[0]["collection"]) if metas and metas[0] else None

    def active(self) -> Collection | None:
        name = self.active_name()
        if name is None:
            return None
        try:
            return self.client.get_collection(name, embedding_function=None)
        except Exception:
            return None

    def new_collection(self) -> Collection:
        name = f"{self.name}__{uuid.uuid4().hex[:12]}"
        return self.client.create_collection(
            name, embedding_function=None, metadata={"hnsw:space": "cosine", "kb": self.name}
        )

    def activate(self, collection: Collection) -> str | None:
        """Point readers at `collection`; returns the name of the one it replaced."""
        previous = self.active_name()
        self._registry.upsert(
            ids=[self.name],
            embeddings=[[0.0]],  # type: ignore[arg-type]
            documents=[""],
            metadatas=[{"collection": collection.name}],
        )
        return previous

    def drop(self, name: str) -> None:
        with contextlib.suppress(Exception):  # already gone is fine
            self.client.delete_collection(name)

    def orphans(self) -> list[str]:
        """Collections of this KB that no pointer reaches (left by an interrupted ingest)."""
        live = self.active_name()
        prefix = f"{self.name}__"
        return [
            c.name
            for c in self.client.list_collections()
            if c.name.startswith(prefix) and c.name != live
        ]


def add_chunks(collection: Collection, chunks: list[Chunk], vectors: list[list[float]]) -> None:
    for start in range(0, len(chunks), PAGE):
        part = chunks[start : start + PAGE]
        collection.add(
            ids=[c.id for c in part],
            embeddings=vectors[start : start + PAGE],  # type: ignore[arg-type]
            documents=[indexed_text(c) for c in part],
            metadatas=[chunk_metadata(c) for c in part],
        )


def pages(
    collection: Collection, include: Include, where: dict[str, Any] | None = None
) -> Iterator[dict[str, Any]]:
    """Everything in a collection, a page at a time."""
    offset = 0
    while True:
        got = collection.get(include=include, where=where, limit=PAGE, offset=offset)
        if not got["ids"]:
            return
        yield dict(got)
        offset += len(got["ids"])
