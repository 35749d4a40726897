"""Commands evals adds to the `copilot` CLI through the server.commands entry point."""

from __future__ import annotations

import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from rich.console import Console
from rich.table import Table

from evals import abcd
from evals.bench import foundation, knowledge
from evals.bench.foundation import Figure

if TYPE_CHECKING:
    from evals.bench.load import Row as LoadRow
    from evals.bench.tokens import Row

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


@bench_app.command("chroma")
def chroma_cmd(
    datasets: Annotated[
        Path, typer.Option(help="folder holding dstc11_track5_val, dstc9_track1_kb and the rest")
    ] = knowledge.DATASETS,
    chunks: Annotated[
        int, typer.Option(min=1000, help="distinct real chunks; about 54,800 exist")
    ] = 50_000,
    queries: Annotated[int, typer.Option(min=20, help="DSTC11 val FAQ turns; 367 exist")] = 300,
) -> None:
    """The knowledge base in a `chroma run` server beside the embedded store (takes minutes):
    dense and hybrid query p50/p95, write chunks/s, and whether both return the same top 5."""

    from evals.bench import chroma

    progress = foundation.progress_bar(console, remaining=True)
    task = progress.add_task("reading the datasets", total=None)

    def tick(label: str, done: int, total: int) -> None:
        progress.update(task, description=label, completed=done, total=total)

    try:
        with progress:
            result = measure(chroma.run, datasets, chunks, queries, None, tick)
    except knowledge.DatasetMissing as exc:
        console.print(f"[yellow]skipped:[/] {exc}")
        raise typer.Exit(0) from None
    show(
        f"Chroma server (`chroma run`, loopback) beside embedded: {result.chunks:,} chunks, "
        f"{result.queries} DSTC11 FAQ turns",
        chroma.figures(result),
    )
    for line in chroma.notes(result):
        console.print(line, markup=False, highlight=False, soft_wrap=True)
    if result.chunks < chunks:
        console.print(f"[yellow]note:[/] only {result.chunks:,} distinct chunks exist here")


@bench_app.command("voice")
def voice_cmd(
    scenarios: Annotated[int, typer.Option(min=1, max=20, help="voice scenarios to speak")] = 4,
    max_calls: Annotated[
        int, typer.Option(min=1, max=64, help="most calls at once when finding the limit")
    ] = 8,
) -> None:
    """Live voice: WER on espeak-ng calls, real-time factor, end of speech to panel, calls."""
    from evals.bench import voice  # faster-whisper loads only for this benchmark

    with console.status("speaking, transcribing and playing the calls"):
        figures, what = measure(voice.run, scenarios, max_calls)
    show(f"live voice: {what}", figures)


@bench_app.command("summary")
def summary_cmd(
    datasets: Annotated[Path, typer.Option(help="folder holding tweetsumm")] = knowledge.DATASETS,
    retune: Annotated[bool, typer.Option(help="re-choose the weights on the dev split")] = False,
) -> None:
    """Extractive summary on the tweetsumm test split: ROUGE-1/2/L beside Lead-2."""
    from evals.bench import summary  # rouge-score pulls in nltk: 1.7 s on every command otherwise

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


@bench_app.command("llm")
def llm_cmd(
    model: Annotated[
        str,
        typer.Option(
            help="auto: COPILOT_LLM_BASE_URL, else the `make llm` build, else the scripted "
            "fake; or configured, local, fake"
        ),
    ] = "auto",
    only: Annotated[
        list[str] | None,
        typer.Option("--only", help="scenarios (names or globs); the local model's default: four"),
    ] = None,
    out: Annotated[Path, typer.Option(help="the two reports go under it")] = BENCH_DIR / "llm",
) -> None:
    """The LLM path beside the offline engine on the same scenarios: model turns, fallbacks,
    policy rejections by reason, tokens per conversation, seconds per turn p50/p95."""
    from evals.bench import llm

    if model not in ("auto", "configured", "local", "fake"):
        console.print(f"[red]--model must be auto, configured, local or fake, not {model!r}[/]")
        raise typer.Exit(2)
    target: llm.Target = model  # type: ignore[assignment]  # checked above
    with console.status("playing the scenarios offline, then on the model") as status:
        offline, on_model = measure(
            llm.run, target, only, out, lambda name: status.update(f"played {name}")
        )
    table = Table("figure", offline.label, on_model.label, title="LLM path beside offline")
    for row in llm.rows(offline, on_model):
        table.add_row(*row)
    console.print(table)
    failing = [c.name for c in on_model.suite.cases if not c.passed]
    if failing:
        console.print(f"failing on the model: {', '.join(failing)}")
    console.print(f"reports: {offline.folder} and {on_model.folder}")


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


@bench_app.command("tokens")
def tokens_cmd(
    turns: Annotated[
        list[int] | None, typer.Option(help="conversation lengths, repeatable; 10 20 40 80")
    ] = None,
) -> None:
    """Prompt tokens per conversation: our orchestrator beside two create_agent baselines."""
    from rich.progress import Progress

    from evals.bench import tokens

    lengths = sorted(set(turns or tokens.TURNS))
    if min(lengths) < 1:
        raise typer.BadParameter("a conversation has at least one turn", param_hint="--turns")
    with Progress(console=console, transient=True) as bar:
        task = bar.add_task(
            "conversations: ours, then the transcript and agent-history baselines",
            total=len(tokens.SIDES) * sum(lengths),
        )
        rows = measure(tokens.run, lengths, None, lambda: bar.advance(task))
    show_tokens(rows)


def show_tokens(rows: list[Row]) -> None:
    """The token table, the per-turn curves, the chart and the targets."""
    from evals.bench import tokens

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    table = Table(
        "turns",
        "ours",
        "transcript\nbaseline",
        "x fewer",
        "agent-history\nbaseline",
        "x fewer",
        "ours/turn",
        title="prompt tokens sent per conversation",
    )
    for r in rows:
        table.add_row(
            str(r.turns),
            f"{r.ours:,}",
            f"{r.transcript:,}",
            f"{r.fewer('transcript'):.2f}x",
            f"{r.history:,}",
            f"{r.fewer('history'):.2f}x",
            f"{r.mean('ours'):,.0f}",
        )
    console.print(table)
    for note in tokens.NOTES:
        say(note)
    say(
        "requests, "
        + "; ".join(
            f"{r.turns} turns: "
            + ", ".join(f"{tokens.MARKS[s][0]} {r.requests(s)}" for s in tokens.SIDES)
            for r in rows
        )
    )
    longest = rows[-1]
    curve = Table(
        "turn",
        "ours",
        "transcript",
        "agent history",
        title=f"prompt tokens of one turn, {longest.turns}-turn talk",
    )
    for turn, ours, transcript, history in tokens.curve(longest):
        curve.add_row(str(turn), f"{ours:,}", f"{transcript:,}", f"{history:,}")
    console.print(curve)
    say(f"total prompt tokens ({tokens.legend()}):")
    for line in tokens.chart(rows):
        say(line)
    say(
        f"linearity, tokens/turn at {longest.turns} over tokens/turn at {rows[0].turns}: "
        + ", ".join(f"{tokens.MARKS[s][0]} {tokens.linearity(rows, s):.2f}x" for s in tokens.SIDES)
    )
    fallbacks = sum(r.ours_fallbacks for r in rows)
    if fallbacks:
        console.print(f"[yellow]warning:[/] {fallbacks} of our model turns fell back")
    for target, met, measured in tokens.verdicts(rows):
        mark = "[green]PASS[/]" if met else "[red]FAIL[/]"
        console.print(f"{mark} {target}: {measured}", highlight=False, soft_wrap=True)


@bench_app.command("scale")
def scale_cmd(
    sessions: Annotated[int, typer.Option(min=1, max=2000, help="concurrent sessions")] = 40,
    seconds: Annotated[float, typer.Option(min=5, max=3600, help="posting time per row")] = 30.0,
) -> None:
    """The embedded default beside PostgreSQL + Redis at one and two workers, and two workers
    with one killed halfway: events/s, event-to-panel p50/p95, lost and duplicated updates
    (the same as `copilot bench load --scale-out`)."""
    show_scale(sessions, seconds)


def show_scale(sessions: int, seconds: float) -> None:
    """Run every deployment at both paces and print them beside the embedded default."""
    from evals.bench import load, scale

    data_dir = Path(os.environ.get("COPILOT_DATA_DIR") or load.EVAL_DATA)
    kb_dir = Path(os.environ.get("COPILOT_KB_DIR") or load.KB_DIR)
    with console.status("") as status:
        rows = measure(scale.run, data_dir, kb_dir, sessions, seconds, status.update)
    table = Table(
        "deployment",
        "pace",
        "events/s",
        "p50 ms",
        "p95 ms",
        "lost",
        "dup",
        "err",
        "retry",
        "reconn",
        title=f"scale-out: {sessions} sessions, {seconds:g} s a row, fresh servers",
    )
    for r in rows:
        base = next(b for b in rows if b.pace == r.pace)  # the embedded row at the same pace
        table.add_row(
            r.name,
            r.pace,
            f"{r.events_per_s:,.1f} {r.events_per_s / base.events_per_s:.2f}x"
            if base.events_per_s
            else f"{r.events_per_s:,.1f}",
            f"{r.pct(50):,.0f}",
            f"{r.pct(95):,.0f}",
            f"{r.lost}" + (f" +{r.covered} snap" if r.covered else ""),
            str(r.duplicated),
            str(len(r.errors)),
            str(r.retries),
            str(r.reconnects),
        )
    Console(width=max(console.width, 120)).print(table)  # ten columns, unwrapped
    console.print(
        "embedded: SQLite and in-process fan-out; pg+redis: the sessions database on PostgreSQL "
        "and the fan-out through Redis; xN: worker processes; kill: one worker gets SIGKILL "
        "halfway (uvicorn starts another). talk: 1-3 s between a session's lines (events/s is "
        "mostly the offered load); flat out: the next line once the last is acknowledged "
        "(events/s is what the deployment takes here, the load generator sharing the cores). "
        f"baseline: the embedded row at the same pace (ratios beside events/s); {os.cpu_count()} "
        "cores. Latency: first POST of an event to its update on the session's stream; retries "
        "and reconnects after a killed worker count in it. Lost: acknowledged, never seen; "
        "targets: 0 lost, 0 duplicated, 0 errors.",
        highlight=False,
        soft_wrap=True,
    )
    for r in rows:
        for e in sorted(set(r.errors))[:3]:
            console.print(f"{r.name}, {r.pace}: {e}", markup=False, highlight=False)


@bench_app.command("load")
def load_cmd(
    sessions: Annotated[
        list[int] | None,
        typer.Option(help="concurrent sessions per level, repeatable; 50 200 500"),
    ] = None,
    seconds: Annotated[
        float, typer.Option(min=5, max=3600, help="conversation time per level")
    ] = 30.0,
    ramp: Annotated[
        float,
        typer.Option(
            min=0,
            max=3600,
            help="spread session starts over this many seconds; each session then posts for "
            "--seconds from its own start. 60 s starts 200 conversations at 3.3 a second, "
            "about six times the arrival rate of 200 agents at a 6-minute handle time; "
            "--ramp 5 is a herd",
        ),
    ] = 60.0,
    scale_out: Annotated[
        bool,
        typer.Option(
            "--scale-out",
            help="instead: the embedded default beside PostgreSQL + Redis at 1 and 2 workers "
            "and 2 with one killed, at the first --sessions level (default 40)",
        ),
    ] = False,
) -> None:
    """Concurrent sessions over HTTP on loopback: events/s and event-to-panel latency."""
    from evals.bench import load

    if scale_out:
        show_scale(sessions[0] if sessions else 40, seconds)
        return

    levels = sorted(set(sessions or load.LEVELS))
    if min(levels) < 1:
        raise typer.BadParameter("a level has at least one session", param_hint="--sessions")
    levels = [load.BASELINE, *(n for n in levels if n != load.BASELINE)]
    data_dir = Path(os.environ.get("COPILOT_DATA_DIR") or load.EVAL_DATA)
    kb_dir = Path(os.environ.get("COPILOT_KB_DIR") or load.KB_DIR)
    with console.status("") as status:
        rows = measure(
            load.run, levels, seconds, data_dir, kb_dir, load.THINK_S, status.update, ramp
        )
    show_load(rows, seconds, ramp)


def show_load(rows: list[LoadRow], seconds: float, ramp: float | None = None) -> None:
    """The per-level table beside the one-session baseline, the notes and the targets."""
    from evals.bench import load

    def ms(value: float) -> str:
        return "-" if math.isnan(value) else f"{value:,.0f}"  # NaN: nothing arrived

    def times(ratio: float) -> str:
        return "-" if math.isnan(ratio) else f"{ratio:.1f}x" if ratio < 10 else f"{ratio:,.0f}x"

    base = rows[0]
    table = Table(
        "sessions",
        "events\nper s",
        "p50\nms",
        "p95\nms",
        "max\nms",
        "p95 vs\nbaseline",
        "errors",
        "lost\nupdates",
        "steady\np50 ms",
        "steady\np95 ms",
        "steady\nn",
        title=f"event-to-panel latency over HTTP, {seconds:g} s a level, baseline 1 session"
        + (f", starts over {ramp:g} s" if ramp is not None else ""),
    )
    server = Table(
        "sessions",
        "events\nsent",
        "engine\np95 ms",
        "server RSS\nMiB at end",
        "server\ncores busy",
        "load generator\ncores busy",
        title="the server process and the load generator at each level",
    )
    for r in rows:
        table.add_row(
            str(r.sessions),
            f"{r.events_per_s:,.1f}",
            ms(r.p50),
            ms(r.p95),
            ms(r.max_ms),
            times(r.p95 / base.p95 if base.p95 > 0 else math.nan),  # NaN compares False
            f"{len(r.errors):,}",
            f"{r.lost:,}",
            "-" if r.steady_p50 is None else ms(r.steady_p50),
            "-" if r.steady_p95 is None else ms(r.steady_p95),
            f"{r.steady_n:,}",
        )
        server.add_row(
            str(r.sessions),
            f"{r.sent:,}",
            ms(r.engine_p95),
            f"{r.rss_mib:,.0f}",
            f"{r.server_cpu:.2f}",
            f"{r.client_cpu:.2f}",
        )
    console.print(table)
    console.print(server)
    lo, hi = load.THINK_S

    def say(line: str) -> None:
        console.print(line, markup=False, highlight=False, soft_wrap=True)

    stagger, window = load.ramp_window(seconds, ramp)
    say(
        f"each session: create, subscribe to its SSE stream, then one line every {lo:g}-{hi:g} s "
        "(customer and agent in turn, from evals/scenarios; half open with a story phone "
        "number), each line after the 202 of the one before, so an overloaded server is offered "
        f"fewer (events sent); sessions start over the first {stagger:.3g} s"
        + (
            f" and each posts for {seconds:g} s (a {window:g} s window). "
            if ramp is not None
            else ". "
        )
        + "latency: before the POST to the update on the stream; lost: no update within "
        f"{load.TIMEOUT_S:g} s, or a version gap; engine p95: the server's own time in the "
        "fast path, from each 202. steady: only events posted "
        f"{load.STEADY_AFTER_S:g} s after the last start, once the first events' backlog "
        "(identity resolution, the customer 360) had time to clear."
    )
    say(
        "a fresh `copilot serve` per level (one uvicorn worker, offline engine, no LLM); the "
        f"load generator shares this machine's {os.cpu_count()} cores with it (CPU: cores "
        "busy on average while the sessions post)."
    )
    for r in rows:
        slow_first, slowest = r.slow_firsts()
        if slowest:
            share = sum(r.firsts) / len(r.firsts) if r.firsts else 0.0
            say(
                f"slowest 5% at {r.sessions} sessions: {slow_first} of {slowest} updates "
                f"({slow_first / slowest:.0%}) were a session's first event "
                f"(first events are {share:.0%} of all updates)"
            )
    for r in rows:
        for kind, count in r.error_kinds()[:5]:
            say(f"errors at {r.sessions} sessions: {count} x {kind}")
    for target, met, measured in [*load.verdicts(rows), load.steady_verdict(rows)]:
        mark = (
            "[yellow]NOT JUDGED[/]" if met is None else "[green]PASS[/]" if met else "[red]FAIL[/]"
        )
        console.print(f"{mark} {target}: {measured}", highlight=False, soft_wrap=True)


@bench_app.command("soak")
def soak_cmd(
    events: Annotated[int, typer.Option(min=2, max=100_000, help="events in all")] = 1000,
    sessions: Annotated[
        int, typer.Option(min=1, max=1000, help="sessions, one concurrent client each")
    ] = 50,
    kill_at: Annotated[
        float,
        typer.Option(min=0.01, max=0.99, help="kill -9 the server once this share is acked"),
    ] = 0.5,
    no_kill: Annotated[bool, typer.Option("--no-kill", help="only the baseline run")] = False,
    no_baseline: Annotated[
        bool, typer.Option("--no-baseline", help="only the kill run, no baseline beside it")
    ] = False,
) -> None:
    """Durability: kill -9 the server halfway through, restart it; count lost and duplicated."""

    from evals.bench import load, soak

    if no_kill and no_baseline:
        raise typer.BadParameter("--no-kill and --no-baseline leave nothing to run")
    if events < sessions:
        raise typer.BadParameter("at least one event per session", param_hint="--events")
    data_dir = Path(os.environ.get("COPILOT_DATA_DIR") or load.EVAL_DATA)
    kb_dir = Path(os.environ.get("COPILOT_KB_DIR") or load.KB_DIR)
    progress = foundation.progress_bar(console)
    task = progress.add_task("starting", total=events)

    def say(line: str) -> None:
        progress.update(task, description=line)

    def tick(acked: int, total: int) -> None:
        progress.update(task, completed=acked, total=total)

    with progress:
        runs = measure(
            soak.run,
            data_dir,
            kb_dir,
            events,
            sessions,
            kill_at,
            not no_baseline,
            not no_kill,
            say,
            tick,
        )
    soak.report(console, runs)


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
    tokens_cmd()
    voice_cmd()
    llm_cmd()
