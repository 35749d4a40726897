"""`copilot kb`: ingest articles, search them, and see what the knowledge base holds."""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Annotated, cast

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from copilot.knowledge import build_retriever, build_store
from server.commands.common import console, err_console, fail, settings
from tools.errors import CopilotError
from tools.kb.embeddings import Embedder
from tools.kb.ingest import ingest
from tools.kb.models import Filters, SearchResult
from tools.kb.retriever import Mode
from tools.kb.store import pages

app = typer.Typer(help="The knowledge base: ingest articles, search with citations, stats.")
DEMO_ARTICLES = Path(__file__).resolve().parents[2] / "tools" / "kb" / "articles" / "brightwave"


@app.command("ingest")
def ingest_cmd(
    path: Annotated[Path, typer.Argument(help="folder of .md, .html, .txt and .pdf articles")],
) -> None:
    """Add new articles, replace changed ones, drop removed ones; bad files are reported."""
    s = settings()
    try:
        store = build_store(s)
        columns = (
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
        )
        with Progress(*columns, console=console) as bar:
            task = bar.add_task("embedding", total=None)

            def advance(_: str, done: int, total: int) -> None:
                bar.update(task, completed=done, total=total)

            report = ingest(store, Embedder(s.embedding_model), path, advance)
    except CopilotError as exc:
        raise fail(exc.message) from None
    console.print(
        f"{report.articles} articles: {len(report.added)} added, {len(report.updated)} updated, "
        f"{len(report.unchanged)} unchanged, {len(report.removed)} removed; "
        f"{report.chunks} chunks ({report.embedded} embedded) in {report.seconds:.1f} s"
    )
    for problem in report.problems:
        err_console.print(f"[yellow]skipped[/] {problem.path}: {problem.problem}", highlight=False)
    if report.problems and not report.articles:
        raise typer.Exit(2)


def show_result(result: SearchResult) -> None:
    style = {"answered": "green", "below_floor": "yellow"}.get(result.status, "red")
    console.print(
        f"[{style}]{result.status}[/] confidence {result.confidence:.2f} "
        f"(floor {result.floor:.2f}), {result.latency_ms:.0f} ms: {result.reason}"
    )
    table = Table("#", "article / section", "snippet", "dense", "bm25")
    for i, hit in enumerate(result.hits, 1):
        c = hit.citation
        table.add_row(
            str(i),
            f"{c.title}\n[dim]{c.section}\n{c.url}[/]",
            c.snippet,
            str(hit.dense_rank or "-"),
            str(hit.lexical_rank or "-"),
        )
    if result.hits:
        console.print(table)


@app.command("search")
def search_cmd(
    query: Annotated[str, typer.Argument(help="what the customer asked")],
    k: Annotated[int, typer.Option(help="passages to return, 1 to 20")] = 5,
    product: str | None = None,
    locale: str | None = None,
    channel: str | None = None,
    mode: Annotated[str, typer.Option(help="hybrid, dense or lexical")] = "hybrid",
    json: Annotated[bool, typer.Option("--json", help="print JSON")] = False,
) -> None:
    """Search with citations; prints nothing found rather than a low-confidence guess."""
    if mode not in ("hybrid", "dense", "lexical"):
        raise fail("--mode must be hybrid, dense or lexical")
    try:
        result = build_retriever(settings()).search(
            query,
            k=k,
            filters=Filters(product=product, locale=locale, channel=channel),
            mode=cast(Mode, mode),
        )
    except CopilotError as exc:
        raise fail(exc.message) from None
    if json:
        console.print_json(result.model_dump_json())
    else:
        show_result(result)


@app.command("stats")
def stats_cmd() -> None:
    """What the live collection holds."""
    s = settings()
    try:
        store = build_store(s)
    except CopilotError as exc:
        raise fail(exc.message) from None
    live = store.active()
    where = s.chroma_url or str(s.kb_dir)
    if live is None:
        console.print(f"knowledge base '{store.name}' at {where} is empty: run `copilot kb ingest`")
        return
    articles: set[str] = set()
    products: Counter[str] = Counter()
    tokens = 0
    for page in pages(live, ["metadatas"]):
        for meta in page["metadatas"]:
            articles.add(str(meta["article_id"]))
            products[str(meta.get("product") or "-")] += 1
            tokens += int(meta.get("tokens", 0))
    count = live.count()
    console.print(f"knowledge base '{store.name}' at {where}: collection {live.name}")
    console.print(
        f"{len(articles)} articles, {count} chunks, {tokens / max(1, count):.0f} tokens "
        f"per chunk on average"
    )
    console.print("chunks by product: " + ", ".join(f"{p} {n}" for p, n in products.most_common()))
    if store.orphans():
        console.print(f"[yellow]{len(store.orphans())} orphan collections from interrupted ingests")


@app.command("calibrate")
def calibrate_cmd(
    cases: Annotated[Path | None, typer.Option(help="YAML of {q, article} dev cases")] = None,
    floor: Annotated[float, typer.Option(min=0.05, max=0.95, help="answer at or above")] = 0.6,
    write: Annotated[bool, typer.Option(help="save to tools/kb/calibration.json")] = False,
) -> None:
    """Fit the confidence model on the live KB and a dev set of questions (never on test data)."""
    from tools.kb.calibrate import CASES_FILE, fit, load_cases, save

    retriever = build_retriever(settings())
    calibration, report = fit(retriever, load_cases(cases or CASES_FILE), floor)
    console.print_json(report.model_dump_json())
    if write:
        save(calibration)
        console.print("saved tools/kb/calibration.json")
