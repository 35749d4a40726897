"""The knowledge base in a `chroma run` server beside the embedded store, at 50,000 real chunks.

Each chunk is embedded once; the same chunks and vectors go to both stores, so the write rate is
the store's alone. Both then answer the same DSTC11 FAQ turns with the same query vectors (the
engine's turn blend), so latency and top-5 agreement differ by the store and nothing else.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from evals import abcd
from evals.bench import mood, summary
from evals.bench.foundation import Figure, percentile
from evals.bench.knowledge import (
    DATASETS,
    Scores,
    dstc9_articles,
    dstc11_articles,
    evaluate,
    faq_instances,
    make_article,
    turn_blends,
)
from evals.servers import chroma_server
from tools.kb.chunking import chunk_article, indexed_text
from tools.kb.embeddings import Embedder
from tools.kb.models import Article, Chunk
from tools.kb.retriever import Mode, Retriever
from tools.kb.store import KnowledgeStore, add_chunks, connect

Progress = Callable[[str, int, int], None]
CHUNKS = 50_000
QUERIES = 300
WARMUP = 20  # per store and mode: the BM25 index build and connection set-up stay out of timing
SIDES = ("embedded", "server")
MODES: tuple[Mode, ...] = ("dense", "hybrid")


def _faqs(root: Path) -> list[Article]:
    return dstc11_articles(root, reviews=False)


def _reviews(root: Path) -> list[Article]:
    return dstc11_articles(root, faqs=False)


def abcd_articles(root: Path) -> list[Article]:
    """The ABCD agent guidelines: each subflow's instructions, then each of its guided actions."""
    out = []
    for sub in abcd.subflows(root / "abcd"):
        parts = [(sub.flow_description, " ".join(sub.instructions))]
        parts += [(g.button, g.text) for g in sub.guide]
        out += [
            make_article(f"abcd-{sub.key}-{n}", sub.name, (head,), text, "abcd", "abcd")
            for n, (head, text) in enumerate(parts)
        ]
    return out


def tweetsumm_articles(root: Path) -> list[Article]:
    """Every turn of the tweetsumm dialogs: real customer-care questions and agents' answers."""
    dev, test = summary.load(root)
    return [
        make_article(f"tweetsumm-{d}-{t}", "Customer care", (who,), text, "tweetsumm", "tweetsumm")
        for d, dialog in enumerate(dev + test)
        for t, (who, text) in enumerate(dialog.turns)
    ]


def banking77_articles(root: Path) -> list[Article]:
    from copilot.intent import read_training_csv

    out = []
    for split in ("train", "test"):
        path = root / "banking77" / f"{split}.csv"
        if not path.is_file():  # read_training_csv would call it bad input rather than missing
            raise FileNotFoundError(f"{path} not found")
        out += [
            make_article(f"banking77-{split}-{n}", "Banking", (intent,), text, "bank", "banking77")
            for n, (text, intent) in enumerate(read_training_csv(path))
        ]
    return out


def uss_articles(root: Path) -> list[Article]:
    """The user turns of the USS dialogs (SGD, then MultiWOZ)."""
    out = []
    for name, file in (("sgd", mood.USS_DEV), ("mwoz", mood.USS_TEST)):
        out += [
            make_article(f"uss-{name}-{n}", "Task dialog", ("user",), turn.text, name, "uss")
            for n, turn in enumerate(mood.uss_user_turns(root / file))
        ]
    return out


# Most knowledge-like first: the FAQ gold of the queries is always in, utterances fill the rest.
SOURCES: tuple[tuple[str, Callable[[Path], list[Article]]], ...] = (
    ("dstc11 FAQs", _faqs),
    ("dstc11 reviews", _reviews),
    ("dstc9 FAQs", dstc9_articles),
    ("abcd guidelines", abcd_articles),
    ("tweetsumm turns", tweetsumm_articles),
    ("banking77 queries", banking77_articles),
    ("uss user turns", uss_articles),
)


@dataclass(frozen=True)
class Corpus:
    chunks: list[Chunk]
    sources: dict[str, int]  # chunks taken from each source, in the order taken


def corpus(root: Path, n: int) -> Corpus:
    """The first n distinct chunks of the sources in order; only the sources needed are read."""
    seen: set[str] = set()
    chunks: list[Chunk] = []
    sources: dict[str, int] = {}
    for name, load in SOURCES:
        if len(chunks) >= n:
            break
        before = len(chunks)
        for article in load(root):
            for chunk in chunk_article(article):
                text = indexed_text(chunk)
                if text not in seen:  # identical passages tie in every ranking
                    seen.add(text)
                    chunks.append(chunk)
            if len(chunks) >= n:
                break
        sources[name] = min(len(chunks), n) - before
    return Corpus(chunks[:n], sources)


def embed_once(embedder: Embedder, chunks: list[Chunk], progress: Progress) -> list[list[float]]:
    step = embedder.batch_size * 4
    vectors: list[list[float]] = []
    for start in range(0, len(chunks), step):
        vectors += embedder.embed([indexed_text(c) for c in chunks[start : start + step]])
        progress("embedding (once, for both stores)", len(vectors), len(chunks))
    return vectors


def write(
    store: KnowledgeStore,
    chunks: list[Chunk],
    vectors: list[list[float]],
    step: int,
    progress: Callable[[int, int], None],
) -> float:
    """Seconds to write the chunks into a fresh collection and make it live, as ingest does."""
    started = time.perf_counter()
    collection = store.new_collection()
    for start in range(0, len(chunks), step):
        add_chunks(collection, chunks[start : start + step], vectors[start : start + step])
        progress(min(start + step, len(chunks)), len(chunks))
    store.activate(collection)
    return time.perf_counter() - started


@dataclass(frozen=True)
class Side:
    write_s: float
    held: int  # chunks the live collection holds after the write
    scores: dict[Mode, Scores]

    def p(self, mode: Mode, pct: float) -> float:
        return percentile(self.scores[mode].latency, pct)


def exact_top5(
    chunks: list[Chunk], vectors: list[list[float]], queries: list[Any]
) -> list[list[str]]:
    """Article ids of each query's 5 nearest chunks by brute force: what an exact index answers."""
    import numpy as np

    sims = np.asarray(queries, dtype=np.float32) @ np.asarray(vectors, dtype=np.float32).T
    best = np.argsort(-sims, axis=1, kind="stable")[:, :5]
    return [[chunks[int(j)].article_id for j in row] for row in best]


def _same(a: list[list[str]], b: list[list[str]], ordered: bool) -> float:
    same = [x == y if ordered else set(x) == set(y) for x, y in zip(a, b, strict=True)]
    return sum(same) / len(same)


@dataclass(frozen=True)
class Result:
    kb: str  # the knowledge base's name in both stores
    chunks: int
    sources: dict[str, int]
    queries: int
    embed_s: float
    sides: dict[str, Side]
    exact: list[list[str]]  # dense top-5 article ids by brute force, per query

    def agreement(self, ordered: bool) -> float:
        """Share of queries whose dense top-5 article ids are the same in both stores."""
        a, b = (self.sides[s].scores["dense"].top5 for s in SIDES)
        return _same(a, b, ordered)

    def exact_share(self, side: str) -> float:
        """Share of queries where a store's dense top 5 is the exact top 5 (HNSW is approximate,
        and each store builds its own graph, so two stores can miss on different queries)."""
        return _same(self.sides[side].scores["dense"].top5, self.exact, ordered=False)


@contextmanager
def _server(url: str | None) -> Iterator[str]:
    if url:
        yield url
        return
    with chroma_server() as started:
        yield started


def run(
    root: Path = DATASETS,
    chunks: int = CHUNKS,
    queries: int = QUERIES,
    chroma_url: str | None = None,
    progress: Progress | None = None,
) -> Result:
    """Every figure in one run; without chroma_url a `chroma run` is started and stopped here."""
    tick: Progress = progress or (lambda _label, _done, _total: None)
    built = corpus(root, chunks)  # before the server starts, so missing data fails fast
    instances = faq_instances(root)[:queries]
    embedder = Embedder()
    started = time.perf_counter()
    vectors = embed_once(embedder, built.chunks, tick)
    embed_s = time.perf_counter() - started
    blends = turn_blends(embedder, instances)
    kb = f"bench-{uuid.uuid4().hex[:8]}"
    step = embedder.batch_size * 4  # ingest's write size, so the rate is the product's
    with (
        tempfile.TemporaryDirectory(prefix="kb-bench-chroma-") as folder,
        _server(chroma_url) as url,
    ):
        stores = {
            "embedded": KnowledgeStore(connect(Path(folder)), kb),
            "server": KnowledgeStore(connect(url=url), kb),
        }
        write_s = {
            side: write(store, built.chunks, vectors, step, _labelled(tick, f"writing to {side}"))
            for side, store in stores.items()
        }
        retrievers = {side: Retriever(store, embedder) for side, store in stores.items()}
        scores: dict[str, dict[Mode, Scores]] = {side: {} for side in SIDES}
        for mode in MODES:  # both stores one mode after the other, so drift hits them alike
            for side in SIDES:
                tick(f"{mode} queries, {side} store", 0, len(instances))
                scores[side][mode] = evaluate(retrievers[side], instances, mode, blends, WARMUP)
                tick(f"{mode} queries, {side} store", len(instances), len(instances))
        held = {side: _held(store) for side, store in stores.items()}
    return Result(
        kb,
        len(built.chunks),
        built.sources,
        len(instances),
        embed_s,
        {side: Side(write_s[side], held[side], scores[side]) for side in SIDES},
        exact_top5(built.chunks, vectors, blends),
    )


def _labelled(tick: Progress, label: str) -> Callable[[int, int], None]:
    return lambda done, total: tick(label, done, total)


def _held(store: KnowledgeStore) -> int:
    live = store.active()
    return live.count() if live is not None else 0


def figures(result: Result) -> list[Figure]:
    """Each server figure beside the embedded store's."""
    server, embedded = result.sides["server"], result.sides["embedded"]
    out = []
    for mode in MODES:
        for pct in (50, 95):
            target = "<= 50 ms" if (mode, pct) == ("hybrid", 95) else ""
            out.append(
                Figure(
                    f"server {mode} p{pct}",
                    server.p(mode, pct),
                    "ms",
                    "embedded",
                    embedded.p(mode, pct),
                    target,
                )
            )
    out.append(
        Figure(
            "server write chunks/s",
            result.chunks / server.write_s,
            "/s",
            "embedded",
            result.chunks / embedded.write_s,
            "",
        )
    )
    out.append(
        Figure(
            "server chunks held", server.held, "", "embedded", embedded.held, f"{result.chunks:,}"
        )
    )
    out.append(
        Figure(
            "server dense recall@5",
            statistics.fmean(server.scores["dense"].recall5),
            "",
            "embedded",
            statistics.fmean(embedded.scores["dense"].recall5),
            "",
        )
    )
    out.append(
        Figure(
            "server dense top 5 = exact search",
            result.exact_share("server"),
            "",
            "embedded",
            result.exact_share("embedded"),
            "",
        )
    )
    out.append(
        Figure(
            "dense top-5 ids agree (as a set)",
            result.agreement(ordered=False),
            "",
            "in order",
            result.agreement(ordered=True),
            "~1.00",
        )
    )
    return out


def notes(result: Result) -> list[str]:
    taken = ", ".join(f"{name} {n:,}" for name, n in result.sources.items())
    return [
        f"chunks: {taken} (read from the shared datasets at run time, duplicates dropped)",
        f"embedded once, for both stores: {result.chunks / result.embed_s:,.0f} chunks/s on CPU; "
        "the write rate is the stores' alone (batches of the ingest's size, then the swap)",
        "latency: Retriever.search with the engine's turn-blend query vector, after "
        f"{WARMUP} warm-up queries per store and mode; hybrid adds BM25 over the collection",
        "agreement: each store's HNSW graph is built on its own (in parallel threads), so near "
        "ties at rank 5 can fall differently; the exact-search row shows both miss alike",
    ]
