"""Build the knowledge base the settings point at: embedded Chroma or a Chroma server."""

from __future__ import annotations

from copilot.settings import Settings
from tools.kb.embeddings import Embedder
from tools.kb.retriever import Retriever
from tools.kb.store import KnowledgeStore, connect


def build_store(settings: Settings) -> KnowledgeStore:
    client = connect(None if settings.chroma_url else settings.kb_dir, settings.chroma_url)
    return KnowledgeStore(client, settings.kb_name)


def build_retriever(settings: Settings, embedder: Embedder | None = None) -> Retriever:
    return Retriever(build_store(settings), embedder or Embedder(settings.embedding_model))
