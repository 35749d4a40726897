"""Hybrid retrieval: dense (Chroma) and BM25 fused by reciprocal rank, with a confidence floor."""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from tools.errors import InvalidInput
from tools.kb.chunking import sentences
from tools.kb.embeddings import Embedder
from tools.kb.lexical import LexicalIndex, terms
from tools.kb.models import Citation, Filters, Hit, SearchResult
from tools.kb.query import MAX_QUERY_CHARS, ConversationQuery, build_query
from tools.kb.store import KnowledgeStore, pages

Mode = Literal["hybrid", "dense", "lexical"]
Status = Literal["answered", "below_floor", "no_match", "empty_index"]
RRF_K = 60
DEPTH = 50
MAX_K = 20
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
_FILTER_VALUE = re.compile(r"^[A-Za-z0-9_-]{1,40}$")


@dataclass(frozen=True)
class Calibration:
    """Logistic model of P(top hit is relevant) from three features, fitted by `kb calibrate`."""

    similarity: float = 12.0
    agreement: float = 1.0
    coverage: float = 2.0
    bias: float = -7.5
    floor: float = 0.5
    fitted_on: str = "defaults"

    def probability(self, similarity: float, agreement: float, coverage: float) -> float:
        z = (
            self.similarity * similarity
            + self.agreement * agreement
            + self.coverage * coverage
            + self.bias
        )
        return 1.0 / (1.0 + math.exp(-z))

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        if not path.is_file():
            return cls()
        return cls(**json.loads(path.read_text()))


@dataclass
class _Candidate:
    id: str
    meta: dict[str, Any]
    dense_rank: int | None = None
    lexical_rank: int | None = None
    similarity: float | None = None
    score: float = 0.0


def _where(filters: Filters | None) -> dict[str, Any] | None:
    if filters is None:
        return None
    conds: list[dict[str, Any]] = []
    for field, value in (("product", filters.product), ("locale", filters.locale)):
        if value is not None:
            if not _FILTER_VALUE.match(value):
                raise InvalidInput(field, "expected letters, digits, '-' or '_' (at most 40)")
            conds.append({field: value})
    if filters.channel is not None:
        if not _FILTER_VALUE.match(filters.channel):
            raise InvalidInput("channel", "expected letters, digits, '-' or '_' (at most 40)")
        conds.append({f"ch_{filters.channel}": True})
    if not conds:
        return None
    return conds[0] if len(conds) == 1 else {"$and": conds}


def _matches(meta: dict[str, Any], filters: Filters | None) -> bool:
    if filters is None:
        return True
    if filters.product is not None and meta.get("product") != filters.product:
        return False
    if filters.locale is not None and meta.get("locale") != filters.locale:
        return False
    return filters.channel is None or bool(meta.get(f"ch_{filters.channel}"))


def clean_query(query: str | ConversationQuery) -> str:
    text = build_query(query) if isinstance(query, ConversationQuery) else query
    if len(text) > MAX_QUERY_CHARS:
        raise InvalidInput("query", f"{len(text):,} characters; at most {MAX_QUERY_CHARS} allowed")
    text = " ".join(re.sub(r"[\x00-\x1f\x7f]", " ", text).split())
    if not re.search(r"\w", text):
        raise InvalidInput("query", "must contain words to search for")
    return text


class Retriever:
    """Answers queries from the live collection of one knowledge base."""

    def __init__(
        self, store: KnowledgeStore, embedder: Embedder, calibration: Calibration | None = None
    ) -> None:
        self.store = store
        self.embedder = embedder
        self.calibration = calibration or Calibration.load()
        self._lexical: tuple[str, LexicalIndex] | None = None
        self._lock = threading.Lock()

    def lexical_index(self, name: str) -> LexicalIndex:
        with self._lock:
            if self._lexical is None or self._lexical[0] != name:
                collection = self.store.client.get_collection(name, embedding_function=None)
                ids: list[str] = []
                texts: list[str] = []
                metas: list[dict[str, object]] = []
                for page in pages(collection, ["documents", "metadatas"]):
                    ids += page["ids"]
                    texts += page["documents"]
                    metas += page["metadatas"]
                self._lexical = (name, LexicalIndex(ids, texts, metas))
            return self._lexical[1]

    def search(
        self,
        query: str | ConversationQuery,
        k: int = 5,
        filters: Filters | None = None,
        mode: Mode = "hybrid",
        query_vector: Sequence[float] | None = None,
    ) -> SearchResult:
        """Top passages with citations; empty with a reason when confidence is below the floor.

        query_vector, when given, stands for the query's embedding: a caller that already holds
        vectors of the conversation's turns passes their blend instead of paying for another
        forward pass over the whole query text.
        """
        started = time.perf_counter()
        text = clean_query(query)
        if not 1 <= k <= MAX_K:
            raise InvalidInput("k", f"must be between 1 and {MAX_K}")
        where = _where(filters)
        floor = self.calibration.floor
        collection = self.store.active()
        size = 0 if collection is None else collection.count()
        if collection is None or size == 0:
            return self._result(
                text,
                mode,
                "empty_index",
                0.0,
                "the knowledge base is empty; run `copilot kb ingest`",
                [],
                [],
                started,
            )
        found: dict[str, _Candidate] = {}
        qvec: list[float] = []
        if mode in ("hybrid", "dense"):
            qvec = (
                self.embedder.embed([text])[0]
                if query_vector is None
                else [float(x) for x in query_vector]
            )
            got = collection.query(
                query_embeddings=[qvec],  # type: ignore[arg-type]
                n_results=min(DEPTH, size),
                where=where,
                include=["metadatas", "distances"],
            )
            metas, dists = got["metadatas"] or [[]], got["distances"] or [[]]
            for rank, (cid, meta, dist) in enumerate(
                zip(got["ids"][0], metas[0], dists[0], strict=True)
            ):
                found[cid] = _Candidate(cid, dict(meta), dense_rank=rank + 1, similarity=1 - dist)
        lexical = self.lexical_index(collection.name)
        if mode in ("hybrid", "lexical"):
            rank = 0
            for pos, _score in lexical.search(text, DEPTH * 4):
                lmeta = lexical.metadatas[pos]
                if not _matches(lmeta, filters):
                    continue
                rank += 1
                cand = found.setdefault(lexical.ids[pos], _Candidate(lexical.ids[pos], dict(lmeta)))
                cand.lexical_rank = rank
                if rank >= DEPTH:
                    break
        for cand in found.values():
            cand.score = sum(1.0 / (RRF_K + r) for r in (cand.dense_rank, cand.lexical_rank) if r)
        ranked = sorted(found.values(), key=lambda c: (-c.score, c.id))[:k]
        if not ranked:
            return self._result(
                text,
                mode,
                "no_match",
                0.0,
                "nothing in the knowledge base shares words or meaning with the query",
                [],
                [],
                started,
            )
        self._fill_similarity(collection, ranked, qvec or self.embedder.embed([text])[0])
        query_terms = terms(text)
        hits = [self._hit(c, query_terms) for c in ranked]
        top = ranked[0]
        confidence = self.calibration.probability(*features(text, hits[0]))
        if confidence < floor:
            reason = (
                f"best match '{top.meta.get('title')}' has confidence {confidence:.2f}, "
                f"below the floor {floor:.2f}: showing nothing rather than a wrong answer"
            )
            return self._result(text, mode, "below_floor", confidence, reason, [], hits, started)
        reason = f"{len(hits)} passages; top confidence {confidence:.2f}"
        return self._result(text, mode, "answered", confidence, reason, hits, hits, started)

    def _fill_similarity(
        self, collection: Any, ranked: list[_Candidate], qvec: list[float]
    ) -> None:
        missing = [c for c in ranked if c.similarity is None]
        if not missing:
            return
        got = collection.get(ids=[c.id for c in missing], include=["embeddings"])
        vectors = dict(zip(got["ids"], got["embeddings"], strict=True))
        for c in missing:
            vec = vectors.get(c.id)
            c.similarity = (
                float(sum(a * b for a, b in zip(qvec, vec, strict=True)))
                if vec is not None
                else 0.0
            )

    def _hit(self, c: _Candidate, query_terms: set[str]) -> Hit:
        meta = c.meta
        return Hit(
            chunk_id=c.id,
            score=round(c.score, 6),
            dense_rank=c.dense_rank,
            lexical_rank=c.lexical_rank,
            similarity=round(c.similarity or 0.0, 4),
            text=str(meta.get("text", "")),
            citation=Citation(
                article_id=str(meta.get("article_id", "")),
                title=str(meta.get("title", "")),
                section=str(meta.get("section", "")),
                url=str(meta.get("url", "")),
                snippet=snippet(str(meta.get("text", "")), query_terms),
            ),
        )

    def _result(
        self,
        text: str,
        mode: Mode,
        status: Status,
        confidence: float,
        reason: str,
        hits: list[Hit],
        candidates: list[Hit],
        started: float,
    ) -> SearchResult:
        return SearchResult(
            query=text,
            mode=mode,
            status=status,
            confidence=round(confidence, 4),
            floor=self.calibration.floor,
            reason=reason,
            hits=hits,
            candidates=candidates,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
        )


def features(query: str, hit: Hit) -> tuple[float, float, float]:
    """(cosine similarity, both retrievers rank it top 3, share of query words in the passage)."""
    agree = float(
        bool(hit.dense_rank and hit.dense_rank <= 3 and hit.lexical_rank and hit.lexical_rank <= 3)
    )
    wanted = terms(query)
    coverage = len(wanted & terms(hit.text)) / len(wanted) if wanted else 0.0
    return hit.similarity, agree, coverage


def snippet(text: str, query_terms: set[str], limit: int = 320) -> str:
    """The one or two sentences sharing most words with the query, in their original order."""
    parts = sentences(text)
    if not parts:
        return ""
    scored = [(len(query_terms & terms(s)), i) for i, s in enumerate(parts)]
    best = sorted(i for score, i in sorted(scored, reverse=True)[:2] if score > 0)
    chosen = " ".join(parts[i] for i in best) if best else parts[0]
    return chosen if len(chosen) <= limit else chosen[: limit - 1].rsplit(" ", 1)[0] + "…"
