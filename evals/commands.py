"""`copilot eval`: run suites, gate a run against thresholds, compare two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from evals import report
from evals.judge import JudgeConfig
from evals.thresholds import Threshold, breaches, fmt_value, load_thresholds
from tools.errors import CopilotError

console = Console()
eval_app = typer.Typer(
    help="Eval suites for QA: run them, gate a run on thresholds, compare two runs.",
    no_args_is_help=True,
)
THRESHOLDS = Path(__file__).resolve().parent / "thresholds.yaml"
OUT = Path("var/eval")
SCENARIOS = Path(__file__).resolve().parent / "scenarios"


def _fail(message: str, code: int = 2) -> typer.Exit:
    Console(stderr=True).print(
        f"[bold red]error:[/] {escape(message)}", highlight=False, soft_wrap=True
    )
    return typer.Exit(code)


def _thresholds(path: Path) -> dict[str, Threshold]:
    try:
        return load_thresholds(path)
    except CopilotError as exc:
        raise _fail(exc.message) from None


def _summary(run: report.Run, thresholds: dict[str, Threshold]) -> None:
    table = Table("suite", "status", "metric", "value", "baseline", "threshold", title=run.run_id)
    for suite in run.suites:
        if suite.status != "ran":
            table.add_row(suite.name, suite.status, escape(suite.message), "", "", "")
            continue
        for m in suite.metrics:
            rule = thresholds.get(f"{suite.name}.{m.key}")
            ok = rule.check(m.value) if rule else None
            mark = "" if ok is None else ("[green]ok[/]" if ok else "[red]below[/]")
            base = f"{m.baseline_label} {fmt_value(m.baseline, m.unit)}" if m.baseline_label else ""
            table.add_row(
                suite.name,
                suite.status,
                m.label,
                fmt_value(m.value, m.unit),
                base,
                f"{rule.describe()} {mark}" if rule else "",
            )
    console.print(table)
    for suite in run.suites:
        for case in suite.cases:
            if not case.passed:
                console.print(
                    f"[red]FAIL[/] {suite.name}/{case.name}: "
                    + "; ".join(escape(f) for f in case.failures)
                )


@eval_app.command("run")
def run_cmd(
    suites: Annotated[
        list[str] | None,
        typer.Argument(help="scenarios, intent, mood, summary, retrieval, nba; all; benchmarks"),
    ] = None,
    engine: Annotated[str, typer.Option(help="offline or llm")] = "offline",
    trials: Annotated[int, typer.Option(min=1, max=50, help="K trials per case: pass^k")] = 1,
    out: Annotated[
        Path | None, typer.Option(help="report folder; var/eval/<run id> if unset")
    ] = None,
    scenarios: Annotated[Path, typer.Option(help="folder of scenario files")] = SCENARIOS,
    datasets: Annotated[Path | None, typer.Option(help="folder of the external datasets")] = None,
    thresholds: Annotated[Path, typer.Option(help="thresholds shown in the report")] = THRESHOLDS,
    judge_url: Annotated[
        str | None,
        typer.Option(envvar="COPILOT_JUDGE_URL", help="OpenAI-compatible base URL of a judge"),
    ] = None,
    judge_model: Annotated[
        str, typer.Option(envvar="COPILOT_JUDGE_MODEL", help="the judge's model name")
    ] = "gpt-4o-mini",
    judge_key: Annotated[
        str, typer.Option(envvar="COPILOT_JUDGE_API_KEY", help="the judge's API key")
    ] = "none",
) -> None:
    """Run suites and write report.json and a self-contained report.html.

    With a judge (--judge-url or COPILOT_JUDGE_URL) the scenario suite adds Faithfulness,
    AnswerRelevancy and rubric scores for the next-best-action and the offer.
    """
    from evals import runner
    from evals.html import render

    if engine not in ("offline", "llm"):
        raise _fail(f"--engine must be offline or llm, not {engine!r}")
    kind: Literal["offline", "llm"] = "llm" if engine == "llm" else "offline"
    rules = _thresholds(thresholds)
    try:
        names = runner.expand(suites or ["all"])
    except CopilotError as exc:
        raise _fail(exc.message) from None
    if not scenarios.is_dir():
        raise _fail(f"scenario folder {scenarios} does not exist")
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=console, transient=True) as bar:
        tasks: dict[str, object] = {}

        def on_suite(name: str, total: int) -> None:
            tasks[name] = bar.add_task(f"{name}", total=total)

        def tick(case: str) -> None:
            task = list(tasks.values())[-1]
            bar.update(task, advance=1, description=f"{list(tasks)[-1]}: {case}")  # type: ignore[arg-type]

        result = runner.run(
            names,
            engine=kind,
            trials=trials,
            scenarios=scenarios,
            on_suite=on_suite,
            tick=tick,
            judge=JudgeConfig(judge_url, judge_model, judge_key) if judge_url else None,
            **({"datasets": datasets} if datasets else {}),
        )
    folder = out or OUT / result.run_id
    json_file, html_file = report.save(result, folder, render(result, rules))
    _summary(result, rules)
    console.print(f"report: {json_file}\nhtml:   {html_file}")


@eval_app.command("gate")
def gate_cmd(
    run: Annotated[Path, typer.Argument(help="a run folder or its report.json")],
    thresholds: Annotated[Path, typer.Option(help="YAML of suite.metric: {min|max}")] = THRESHOLDS,
    strict: Annotated[
        bool, typer.Option(help="suites the run skipped or left out count as failures")
    ] = False,
) -> None:
    """Exit 1 when a metric of the run misses its threshold; print every miss."""
    try:
        measured = report.load(run)
    except CopilotError as exc:
        raise _fail(exc.message) from None
    rules = {
        k: v
        for k, v in _thresholds(thresholds).items()
        if v.engine is None or v.engine == measured.engine
    }
    ran = {s.name for s in measured.suites}
    judged = rules if strict else {k: v for k, v in rules.items() if k.split(".")[0] in ran}
    found = breaches(measured, judged, strict=strict)
    for note in found.notes:
        console.print(f"[yellow]note[/] {escape(note)}")
    if not strict and len(judged) < len(rules):
        console.print(
            f"[yellow]note[/] {len(rules) - len(judged)} thresholds are for suites "
            "this run did not include"
        )
    if found.breaches:
        for line in found.breaches:
            console.print(f"[red]FAIL[/] {escape(line)}")
        raise typer.Exit(1)
    console.print(f"[green]PASS[/] {measured.run_id}: {len(judged)} thresholds met")


@eval_app.command("compare")
def compare_cmd(
    run_a: Annotated[Path, typer.Argument(help="the earlier run")],
    run_b: Annotated[Path, typer.Argument(help="the later run")],
    thresholds: Annotated[Path, typer.Option(help="thresholds to mark")] = THRESHOLDS,
) -> None:
    """What got better and what regressed from run A to run B."""
    from evals.compare import compare, render_comparison

    try:
        a, b = report.load(run_a), report.load(run_b)
    except CopilotError as exc:
        raise _fail(exc.message) from None
    result = compare(a, b, _thresholds(thresholds))
    console.print(render_comparison(result))
    if result.regressions:
        console.print(f"[red]regressed:[/] {', '.join(escape(r) for r in result.regressions)}")
    else:
        console.print("[green]no regressions[/]")
