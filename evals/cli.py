"""Commands evals adds to the `copilot` CLI through the copilot.commands entry point."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from evals import abcd
from evals.bench import foundation, knowledge, summary
from evals.bench.foundation import Figure

console = Console()
bench_app = typer.Typer(help="Benchmarks: each prints its figures beside its baseline.")
BENCH_DIR = Path("var/bench")


def show(title: str, figures: list[Figure]) -> None:
    table = Table("figure", "value", "baseline", "value", "ratio", "target", title=title)
    for f in figures:
        ratio = f"{f.value / f.baseline:.2f}x" if f.baseline else "-"
        table.add_row(
            f.name,
            f"{f.value:,.2f} {f.unit}",
            f.baseline_name,
            f"{f.baseline:,.2f} {f.unit}",
            ratio,
            f.target,
        )
    console.print(table)


T = TypeVar("T")


def measure(run: Callable[..., T], *args: Any) -> T:
    """Run a benchmark; a missing dataset skips it with a message instead of failing."""
    try:
        return run(*args)
    except FileNotFoundError as exc:
        console.print(f"[yellow]skipped:[/] {exc}")
        raise typer.Exit(0) from None


@bench_app.command("view")
def view_cmd(
    latency_ms: Annotated[float, typer.Option(help="injected latency per system call")] = 100.0,
    rounds: Annotated[int, typer.Option(min=5, max=1000)] = 40,
    customers: Annotated[int, typer.Option(min=100, max=1_000_000)] = 5000,
) -> None:
    """customer_360 through the REST backend, parallel fan-out vs sequential, same run."""
    data = foundation.ensure_data(BENCH_DIR / f"c{customers}", customers)
    show(
        f"customer_360 via REST, {latency_ms:g} ms injected per system, {rounds} customers",
        foundation.bench_view(data, latency_ms, rounds),
    )


@bench_app.command("resolve")
def resolve_cmd(
    customers: Annotated[int, typer.Option(min=1000, max=1_000_000)] = 100_000,
    queries: Annotated[int, typer.Option(min=60, max=100_000)] = 3000,
) -> None:
    """resolve() latency by identifier at scale, beside the demo-size database."""
    with console.status(f"building {customers:,} customers (reused when already built)"):
        big = foundation.ensure_data(BENCH_DIR / f"c{customers}", customers)
        small = foundation.ensure_data(BENCH_DIR / "c5000", 5000)
    show(
        f"resolve() over {customers:,} customers, {queries} mixed queries",
        foundation.bench_resolve(big, small, queries),
    )


@bench_app.command("generate")
def generate_cmd(
    customers: Annotated[int, typer.Option(min=1000, max=1_000_000)] = 1_000_000,
    baseline: Annotated[int, typer.Option(min=1000, max=1_000_000)] = 100_000,
) -> None:
    """Data generation throughput (1,000,000 customers by default; takes minutes)."""
    with console.status(f"generating {baseline:,} then {customers:,} customers"):
        figures = foundation.bench_generate(customers, baseline)
    show("demo data generation", figures)


@bench_app.command("kb")
def kb_cmd(
    datasets: Annotated[
        Path, typer.Option(help="folder holding dstc11_track5_val and dstc9_track1_kb")
    ] = knowledge.DATASETS,
    chroma_url: Annotated[
        str | None, typer.Option(help="a `chroma run` server instead of embedded")
    ] = None,
) -> None:
    """Knowledge selection on DSTC11 val (FAQ turns): recall@1/5 and MRR@5 per retriever."""
    from rich.progress import Progress

    try:
        with Progress(console=console, transient=True) as bar:
            task = bar.add_task("embedding", total=None)
            result = knowledge.run(
                datasets,
                chroma_url,
                lambda _, done, total: bar.update(task, completed=done, total=total),
            )
    except knowledge.DatasetMissing as exc:
        console.print(f"[yellow]skipped:[/] {exc}")
        raise typer.Exit(0) from None
    show(
        f"DSTC11 track 5 val: {result['instances']} FAQ turns over {result['chunks']:,} chunks",
        knowledge.figures(result),
    )


@bench_app.command("summary")
def summary_cmd(
    datasets: Annotated[Path, typer.Option(help="folder holding tweetsumm")] = knowledge.DATASETS,
    retune: Annotated[bool, typer.Option(help="re-choose the weights on the dev split")] = False,
) -> None:
    """Extractive summary on the tweetsumm test split: ROUGE-1/2/L beside Lead-2."""
    result = measure(summary.run, datasets, retune)
    show(
        f"tweetsumm test: {result['dialogs']} dialogs, weights {result['weights']}",
        summary.figures(result),
    )


@bench_app.command("engine")
def engine_cmd(sessions: Annotated[int, typer.Option(min=1, max=1000)] = 40) -> None:
    """The fast path per event over the embedded systems and the demo KB, warm."""
    from evals.bench import engine

    result = engine.run(sessions)
    show(
        f"engine: {result['events']} events in {sessions} sessions, models {result['models']}",
        engine.figures(result),
    )


@bench_app.command("mood")
def mood_cmd(
    datasets: Annotated[Path, typer.Option(help="folder holding the airline and uss data")] = (
        knowledge.DATASETS
    ),
) -> None:
    """Mood on twitter_airline_sentiment test and USS MultiWOZ, beside VADER (takes minutes)."""
    from evals.bench import mood

    result = measure(mood.run, datasets)
    show("customer mood", mood.figures(result))


@bench_app.command("intent")
def intent_cmd(
    datasets: Annotated[Path, typer.Option(help="folder holding banking77")] = knowledge.DATASETS,
) -> None:
    """Intent on banking77: train on train.csv, test accuracy beside the plain baseline."""
    from evals.bench import intent

    result = measure(intent.run, datasets)
    show("intent on banking77 test", intent.figures(result))


@bench_app.command("nba")
def nba_cmd(
    root: Annotated[Path, typer.Option(help="folder holding the ABCD files")] = abcd.ROOT,
) -> None:
    """Next action on the ABCD sample conversations: kb.json playbooks beside kb.json bigrams."""
    from evals.bench import nba

    result = measure(nba.run, root)
    show(
        f"ABCD next action: {result['action_turns']} gold action turns in "
        f"{result['conversations']} conversations, {result['playbooks']} playbooks",
        nba.figures(result),
    )
    for line in nba.notes(result):
        console.print(line, markup=False, highlight=False)


@bench_app.command("all")
def all_cmd() -> None:
    """Every benchmark at its default size."""
    view_cmd()
    resolve_cmd()
    generate_cmd()
    kb_cmd()
    summary_cmd()
    engine_cmd()
    intent_cmd()
    mood_cmd()
    nba_cmd()
