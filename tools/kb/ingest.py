"""Ingest a folder of articles: skip what has not changed, replace what has, drop what is gone."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from tools.errors import InvalidInput
from tools.kb.chunking import chunk_article, indexed_text
from tools.kb.embeddings import Embedder
from tools.kb.loaders import ArticleError, load
from tools.kb.models import Article, Chunk, FileProblem, IngestReport
from tools.kb.store import KnowledgeStore, add_chunks, pages

Progress = Callable[[str, int, int], None]
MAX_FILES = 50_000


def read_folder(folder: Path) -> tuple[list[Article], list[FileProblem]]:
    """Every article under folder; each bad file is reported by path and skipped."""
    if not folder.is_dir():
        raise InvalidInput("path", f"{folder} is not a folder")
    paths = sorted(
        p
        for p in folder.rglob("*")
        if p.is_file() and not any(part.startswith(".") for part in p.relative_to(folder).parts)
    )
    if len(paths) > MAX_FILES:
        raise InvalidInput("path", f"{len(paths):,} files; at most {MAX_FILES:,} per ingest")
    articles: dict[str, Article] = {}
    problems: list[FileProblem] = []
    for path in paths:
        rel = str(path.relative_to(folder))
        try:
            article = load(path, folder)
        except ArticleError as exc:
            problems.append(FileProblem(path=rel, problem=str(exc)))
            continue
        except OSError as exc:
            problems.append(FileProblem(path=rel, problem=f"cannot read ({exc.strerror})"))
            continue
        if article.id in articles:
            first = articles[article.id].source
            problems.append(
                FileProblem(
                    path=rel, problem=f"duplicate id {article.id!r}, already used by {first}"
                )
            )
            continue
        articles[article.id] = article
    return list(articles.values()), problems


def ingest(
    store: KnowledgeStore,
    embedder: Embedder,
    folder: Path,
    progress: Progress | None = None,
    articles: list[Article] | None = None,
) -> IngestReport:
    """Build the next collection beside the live one and switch readers over only at the end."""
    started = time.perf_counter()
    problems: list[FileProblem] = []
    if articles is None:
        articles, problems = read_folder(folder)
    old = store.active()
    known: dict[str, str] = {}
    if old is not None:
        for page in pages(old, ["metadatas"]):
            for meta in page["metadatas"]:
                known[str(meta["article_id"])] = str(meta["content_hash"])
    by_id = {a.id: a for a in articles}
    unchanged = sorted(i for i, a in by_id.items() if known.get(i) == a.content_hash)
    added = sorted(i for i in by_id if i not in known)
    updated = sorted(i for i, a in by_id.items() if i in known and known[i] != a.content_hash)
    removed = sorted(i for i in known if i not in by_id)

    def report(collection: str, chunks: int, embedded: int) -> IngestReport:
        return IngestReport(
            collection=collection,
            articles=len(by_id),
            added=added,
            updated=updated,
            unchanged=unchanged,
            removed=removed,
            chunks=chunks,
            embedded=embedded,
            problems=problems,
            seconds=round(time.perf_counter() - started, 3),
        )

    if old is not None and not (added or updated or removed):
        return report(old.name, old.count(), 0)
    fresh = [c for i in added + updated for c in chunk_article(by_id[i])]
    new = store.new_collection()
    try:
        kept = 0
        if old is not None and unchanged:
            where = {"article_id": {"$in": unchanged}}
            for page in pages(old, ["embeddings", "documents", "metadatas"], where=where):
                new.add(
                    ids=page["ids"],
                    embeddings=page["embeddings"],
                    documents=page["documents"],
                    metadatas=page["metadatas"],
                )
                kept += len(page["ids"])
        step = embedder.batch_size * 4
        for start in range(0, len(fresh), step):
            part: list[Chunk] = fresh[start : start + step]
            add_chunks(new, part, embedder.embed([indexed_text(c) for c in part]))
            if progress:
                progress("embedding", min(start + step, len(fresh)), len(fresh))
        previous = store.activate(new)
    except BaseException:
        store.drop(new.name)
        raise
    if previous and previous != new.name:
        store.drop(previous)
    return report(new.name, kept + len(fresh), len(fresh))
