"""Articles, chunks and search results of the knowledge base."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Section(BaseModel):
    """A run of text under one heading path, e.g. ('Autopay', 'Update the card')."""

    path: tuple[str, ...]
    text: str


class Article(BaseModel):
    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    url: str = ""
    tags: list[str] = Field(default_factory=list)
    product: str = ""
    channel: list[str] = Field(default_factory=list)
    locale: str = "en-US"
    updated: date | None = None
    source: str = Field(description="the file it came from, relative to the ingested folder")
    sections: list[Section]
    content_hash: str
    script: list[str] = Field(
        default_factory=list,
        description="the article's lines to say ('Say: \"...\"'), kept out of ranked retrieval",
    )


class Chunk(BaseModel):
    id: str = Field(description="article id and position: '<article>#<n>'")
    article_id: str
    title: str
    section: str = Field(description="heading path joined with ' > '")
    url: str
    position: int
    text: str
    tokens: int
    product: str
    channel: list[str]
    locale: str
    tags: list[str]
    content_hash: str = Field(description="hash of the whole article, for incremental re-ingest")
    script: str = Field(default="", description="the article's lines to say, on its first chunk")


class Citation(BaseModel):
    article_id: str
    title: str
    section: str
    url: str
    snippet: str = Field(description="the sentences of the passage that match the query")


class Hit(BaseModel):
    chunk_id: str
    score: float = Field(description="fused reciprocal-rank score")
    dense_rank: int | None
    lexical_rank: int | None
    similarity: float = Field(description="cosine similarity of the passage to the query")
    citation: Citation
    text: str


class Filters(BaseModel):
    model_config = ConfigDict(extra="forbid")

    product: str | None = None
    locale: str | None = None
    channel: str | None = None


class SearchResult(BaseModel):
    query: str
    mode: Literal["hybrid", "dense", "lexical"]
    status: Literal["answered", "below_floor", "no_match", "empty_index"]
    confidence: float = Field(description="estimated probability that the top hit is relevant")
    floor: float
    reason: str
    hits: list[Hit] = Field(description="empty unless status is answered")
    candidates: list[Hit] = Field(description="what was found, even below the floor, for audit")
    latency_ms: float


class FileProblem(BaseModel):
    path: str
    problem: str


class IngestReport(BaseModel):
    collection: str
    articles: int
    added: list[str]
    updated: list[str]
    unchanged: list[str]
    removed: list[str]
    chunks: int
    embedded: int
    problems: list[FileProblem]
    seconds: float
