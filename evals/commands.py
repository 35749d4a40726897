"""`copilot eval`: run suites, gate a run against thresholds, compare two runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from evals import report
from evals.bench.foundation import progress_bar
from evals.compare import TOLERANCE, Noise
from evals.judge import JudgeConfig
from evals.thresholds import Threshold, breaches, fmt_value, load_thresholds
from tools.errors import CopilotError

console = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)
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


def _ran_on(run: report.Run) -> str:
    p = run.provenance
    if p is None:
        return ""
    line = f"copilot {p.copilot_version}" + (f" ({p.git_commit})" if p.git_commit else "")
    line += f" · data {p.data}"
    if p.scenario_hash:
        line += f" · {p.scenario_files} scenarios sha256 {p.scenario_hash}"
    return line


def _summary(run: report.Run, thresholds: dict[str, Threshold]) -> None:
    table = Table(
        "suite",
        "status",
        "metric",
        "value",
        "baseline",
        "threshold",
        title=run.run_id,
        caption=escape(_ran_on(run)),
    )
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
                    f"[red]FAIL[/] {escape(suite.name)}/{escape(case.name)}: "
                    + "; ".join(escape(f) for f in case.failures),
                    soft_wrap=True,
                )
                console.print(
                    f"     rerun: {escape(report.repro(run, suite.name, case.name)[0])}",
                    highlight=False,
                    soft_wrap=True,
                )
    for suite in run.suites:
        if suite.cases:
            good = all(c.passed for c in suite.cases)
            console.print(
                f"[{'green' if good else 'red'}]{escape(suite.name)}: "
                f"{report.passed(suite.cases)} passed[/]",
                highlight=False,
            )


class _Bar:
    """Progress per suite: a transient bar on a terminal, one plain line per suite elsewhere."""

    def __init__(self, suites: list[str]) -> None:
        self.suites = suites
        self.live = console.is_terminal
        self.progress = progress_bar(console, disable=not self.live)
        self.task: TaskID | None = None
        self.label = ""

    def on_suite(self, name: str, total: int) -> None:
        if self.task is not None:
            self.progress.update(self.task, description=self.label)
        index = self.suites.index(name) + 1 if name in self.suites else len(self.suites)
        self.label = f"[{index}/{len(self.suites)}] {name}"
        self.task = self.progress.add_task(escape(self.label), total=total)
        if not self.live:
            what = f": {total} scenarios" if name == "scenarios" else ""
            err.print(f"{self.label}{what}", markup=False)

    def tick(self, case: str) -> None:
        if self.task is not None:
            self.progress.update(self.task, advance=1, description=escape(f"{self.label}: {case}"))


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
    only: Annotated[
        list[str] | None,
        typer.Option(
            "--only",
            help="only these scenarios: a file name without .yaml, or a glob "
            "('injection-*'); repeatable. The report's failures name the --only that reruns each",
        ),
    ] = None,
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
    if only:
        if "scenarios" not in names:
            raise _fail("--only picks scenarios: run the scenarios suite (or all) with it")
        try:
            runner.select(scenarios, only)
        except CopilotError as exc:
            raise _fail(exc.message) from None
    bar = _Bar(names)
    with bar.progress:
        result = runner.run(
            names,
            engine=kind,
            trials=trials,
            scenarios=scenarios,
            on_suite=bar.on_suite,
            tick=bar.tick,
            judge=JudgeConfig(judge_url, judge_model, judge_key) if judge_url else None,
            only=only,
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
    run_a: Annotated[Path, typer.Argument(help="the earlier run (a folder or its report.json)")],
    run_b: Annotated[Path, typer.Argument(help="the later run")],
    thresholds: Annotated[Path, typer.Option(help="thresholds to mark")] = THRESHOLDS,
    fail_on_regression: Annotated[
        bool,
        typer.Option(
            "--fail-on-regression",
            help="exit 1 when a case that passed in A fails in B, a suite that ran in A errors "
            "in B, or a metric got worse beyond --tolerance (latency beyond the noise band)",
        ),
    ] = False,
    tolerance: Annotated[
        float,
        typer.Option(
            min=0, max=1, help="a metric within this share of its value is unchanged (0.005: 0.5%)"
        ),
    ] = TOLERANCE,
    latency_noise: Annotated[
        float,
        typer.Option(
            min=0,
            help="a latency metric (ms) that moved by at most this share of run A's value is "
            "noise, not a regression or a gain (0.5: 50%)",
        ),
    ] = Noise.ratio,
    latency_floor_ms: Annotated[
        float,
        typer.Option(min=0, help="a latency metric that moved by at most this many ms is noise"),
    ] = Noise.floor_ms,
) -> None:
    """What got better and what regressed from run A to run B: metrics, newly failing and newly
    passing scenarios, and what the runs ran on when that differs (scenario files, data, engine).

    A latency move inside the noise band is shown as noise, never counted as a regression.
    """
    from evals.compare import compare, findings, render_comparison

    try:
        a, b = report.load(run_a), report.load(run_b)
    except CopilotError as exc:
        raise _fail(exc.message) from None
    result = compare(
        a,
        b,
        _thresholds(thresholds),
        tolerance=tolerance,
        noise=Noise(latency_noise, latency_floor_ms),
    )
    console.print(render_comparison(result))
    for style, line in findings(result):
        text = escape(line)
        console.print(f"[{style}]{text}[/]" if style else text, highlight=False, soft_wrap=True)
    if result.regressions:
        console.print(
            f"[red]regressed:[/] {', '.join(escape(r) for r in result.regressions)}",
            soft_wrap=True,
        )
        if fail_on_regression:
            raise typer.Exit(1)
    else:
        console.print("[green]no regressions[/]")
