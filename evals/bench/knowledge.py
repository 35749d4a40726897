"""Knowledge selection on real dialogs (DSTC11 track 5 val): BM25, dense and hybrid side by side.

Nothing here is tuned on this data: it is all test. The knowledge base is built through the
same ingest path as any article folder, one article per FAQ and per review sentence.
"""

from __future__ import annotations

import hashlib
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot.session_state import blend
from copilot.stages.knowledge import QUERY_WEIGHTS, REPLY_WEIGHT
from evals.bench.foundation import Figure, percentile
from tools.kb.embeddings import Embedder
from tools.kb.ingest import ingest
from tools.kb.models import Article, IngestReport, Section
from tools.kb.query import ConversationQuery, Turn
from tools.kb.retriever import Mode, Retriever
from tools.kb.store import KnowledgeStore, connect

DATASETS = Path(__file__).resolve().parents[2].parent / "shared" / "datasets"  # ../shared
MODES: tuple[Mode, ...] = ("lexical", "dense", "hybrid")


class DatasetMissing(Exception):
    """The external dataset is not where the benchmark expects it."""


def make_article(
    article_id: str,
    title: str,
    path: tuple[str, ...],
    text: str,
    product: str,
    source: str = "dstc",
) -> Article:
    """One single-section article, as a dataset row becomes a knowledge-base entry."""
    return Article(
        id=article_id,
        title=title,
        product=product,
        source=source,
        url="",
        sections=[Section(path=path, text=text)],
        content_hash=hashlib.sha256(f"{title}|{path}|{text}".encode()).hexdigest(),
    )


def dstc11_articles(root: Path, faqs: bool = True, reviews: bool = True) -> list[Article]:
    path = root / "dstc11_track5_val" / "knowledge.json"
    if not path.is_file():
        raise DatasetMissing(f"{path} not found")
    knowledge = json.loads(path.read_text())
    out = []
    for domain, entities in knowledge.items():
        for entity_id, entity in entities.items():
            name = entity["name"]
            if faqs:
                for doc_id, faq in entity.get("faqs", {}).items():
                    out.append(
                        make_article(
                            f"{domain}-{entity_id}-faq-{doc_id}",
                            name,
                            (faq["question"],),
                            faq["answer"],
                            domain,
                        )
                    )
            if reviews:
                for doc_id, review in entity.get("reviews", {}).items():
                    for sent_id, sentence in review["sentences"].items():
                        out.append(
                            make_article(
                                f"{domain}-{entity_id}-review-{doc_id}-{sent_id}",
                                name,
                                ("review",),
                                sentence,
                                domain,
                            )
                        )
    return out


def dstc9_articles(root: Path) -> list[Article]:
    path = root / "dstc9_track1_kb" / "knowledge.json"
    if not path.is_file():
        raise DatasetMissing(f"{path} not found")
    out = []
    for domain, entities in json.loads(path.read_text()).items():
        for entity_id, entity in entities.items():
            name = entity.get("name") or domain
            for doc_id, doc in entity.get("docs", {}).items():
                out.append(
                    make_article(
                        f"dstc9-{domain}-{entity_id}-{doc_id}",
                        name,
                        (doc["title"],),
                        doc["body"],
                        domain,
                    )
                )
    return out


@dataclass(frozen=True)
class Instance:
    conversation: ConversationQuery
    gold: set[str]


def faq_instances(root: Path) -> list[Instance]:
    folder = root / "dstc11_track5_val"
    logs = json.loads((folder / "val_logs.json").read_text())
    labels = json.loads((folder / "val_labels.json").read_text())
    out = []
    for log, label in zip(logs, labels, strict=True):
        gold = {
            f"{k['domain']}-{k['entity_id']}-faq-{k['doc_id']}"
            for k in label.get("knowledge", [])
            if k.get("doc_type") == "faq"
        }
        if not label.get("target") or not gold:
            continue
        turns = [
            Turn(speaker="customer" if t["speaker"] == "U" else "agent", text=t["text"])
            for t in log
        ]
        out.append(Instance(ConversationQuery(turns=turns), gold))
    return out


@dataclass
class Scores:
    recall1: list[float]
    recall5: list[float]
    mrr5: list[float]
    latency: list[float]
    top5: list[list[str]] = field(default_factory=list)  # article ids, best first, per instance


def turn_blends(embedder: Embedder, instances: list[Instance]) -> list[Any]:
    """The engine's live query vector: a blend of the turns' own vectors (copilot.engine)."""
    picked = []
    for inst in instances:
        turns = inst.conversation.turns
        said = [t.text for t in turns if t.speaker == "customer"][-len(QUERY_WEIGHTS) :][::-1]
        replies = [t.text for t in turns if t.speaker != "customer"][-1:]
        weights = QUERY_WEIGHTS[: len(said)] + ((REPLY_WEIGHT,) if replies else ())
        picked.append(([" ".join(t.split()) for t in said + replies], weights))
    vectors = iter(embedder.embed([text for texts, _ in picked for text in texts]))
    return [blend([next(vectors) for _ in texts], weights) for texts, weights in picked]


def evaluate(
    retriever: Retriever,
    instances: list[Instance],
    mode: Mode,
    vectors: list[Any] | None = None,
    warmup: int = 3,
) -> Scores:
    scores = Scores([], [], [], [])
    for inst in instances[:warmup]:  # warm caches and the BM25 index before timing
        retriever.search(inst.conversation, k=5, mode=mode)
    for n, inst in enumerate(instances):
        start = time.perf_counter()
        given = None if vectors is None else vectors[n]
        result = retriever.search(inst.conversation, k=5, mode=mode, query_vector=given)
        scores.latency.append((time.perf_counter() - start) * 1000)
        ranked = [h.citation.article_id for h in result.candidates]
        scores.top5.append(ranked[:5])
        scores.recall1.append(len(inst.gold & set(ranked[:1])) / len(inst.gold))
        scores.recall5.append(len(inst.gold & set(ranked[:5])) / len(inst.gold))
        first = next((i for i, a in enumerate(ranked[:5], 1) if a in inst.gold), None)
        scores.mrr5.append(1 / first if first else 0.0)
    return scores


def _build(
    articles: list[Article],
    embedder: Embedder,
    chroma_url: str | None,
    name: str,
    progress: Callable[[str, int, int], None] | None,
) -> tuple[Retriever, IngestReport]:
    client = connect(None if chroma_url else Path(tempfile.mkdtemp(prefix="kb-bench-")), chroma_url)
    store = KnowledgeStore(client, name)
    report = ingest(store, embedder, Path(), progress, articles=articles)
    return Retriever(store, embedder), report


def run(
    root: Path = DATASETS,
    chroma_url: str | None = None,
    progress: Callable[[str, int, int], None] | None = None,
    at_scale: bool = True,
) -> dict[str, Any]:
    """Every figure of the benchmark, measured in one run; scale=False skips the 10k-chunk part."""
    embedder = Embedder()
    instances = faq_instances(root)
    retriever, report = _build(dstc11_articles(root), embedder, chroma_url, "dstc11", progress)
    table: dict[str, dict[str, float]] = {}
    for mode in MODES:
        s = evaluate(retriever, instances, mode)
        table[mode] = {
            "recall@1": statistics.fmean(s.recall1),
            "recall@5": statistics.fmean(s.recall5),
            "mrr@5": statistics.fmean(s.mrr5),
            "p50_ms": statistics.median(s.latency),
            "p95_ms": percentile(s.latency, 95),
        }
    # What the engine does live: no forward pass over the joined query, a blend of turn vectors.
    s = evaluate(retriever, instances, "hybrid", turn_blends(embedder, instances))
    table["engine"] = {
        "recall@1": statistics.fmean(s.recall1),
        "recall@5": statistics.fmean(s.recall5),
        "mrr@5": statistics.fmean(s.mrr5),
        "p50_ms": statistics.median(s.latency),
        "p95_ms": percentile(s.latency, 95),
    }
    if not at_scale:
        return {"instances": len(instances), "chunks": report.chunks, "modes": table}
    scale_articles = dstc9_articles(root) + dstc11_articles(root, faqs=False)
    scale, scale_report = _build(scale_articles, embedder, chroma_url, "dstc9scale", progress)
    lat = evaluate(scale, instances[:200], "hybrid").latency
    return {
        "instances": len(instances),
        "chunks": report.chunks,
        "ingest_chunks_per_s": report.chunks / report.seconds,
        "modes": table,
        "scale_chunks": scale_report.chunks,
        "scale_ingest_chunks_per_s": scale_report.chunks / scale_report.seconds,
        "scale_p50_ms": statistics.median(lat),
        "scale_p95_ms": percentile(lat, 95),
    }


def figures(result: dict[str, Any]) -> list[Figure]:
    modes = result["modes"]
    best_single = max(modes["lexical"]["recall@5"], modes["dense"]["recall@5"])
    out = []
    for metric in ("recall@1", "recall@5", "mrr@5", "p50_ms", "p95_ms"):
        unit = "ms" if metric.endswith("ms") else ""
        target = f"> {best_single:.3f} (best single)" if metric == "recall@5" else ""
        for base, label in (("lexical", "bm25"), ("dense", "dense")):
            out.append(
                Figure(
                    f"hybrid {metric}",
                    modes["hybrid"][metric],
                    unit,
                    f"{label} {metric}",
                    modes[base][metric],
                    target,
                )
            )
    for metric in ("recall@1", "recall@5", "mrr@5"):
        out.append(
            Figure(
                f"engine turn-blend {metric}",
                modes["engine"][metric],
                "",
                f"hybrid {metric}",
                modes["hybrid"][metric],
                "",
            )
        )
    if "scale_chunks" not in result:
        return out
    out.append(
        Figure(
            f"hybrid query p95 at {result['scale_chunks']:,} chunks",
            result["scale_p95_ms"],
            "ms",
            "p50",
            result["scale_p50_ms"],
            "<= 50 ms",
        )
    )
    out.append(
        Figure(
            "ingest chunks/s (dstc11)",
            result["ingest_chunks_per_s"],
            "/s",
            "dstc9 + reviews",
            result["scale_ingest_chunks_per_s"],
            ">= 50/s",
        )
    )
    return out
