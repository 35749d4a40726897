"""What an eval run produces: suites of metrics and cases, saved as JSON beside an HTML page."""

from __future__ import annotations

import json
import re
import shlex
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from tools.errors import InvalidInput

REPORT_FILE = "report.json"
HTML_FILE = "report.html"
SHIPPED_SCENARIOS = "evals/scenarios"
"""The shipped scenario folder as a run from the repository root names it."""


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")


class Metric(BaseModel):
    key: str = Field(description="stable name within its suite, used by thresholds")
    label: str
    value: float | None = Field(description="None when nothing could be measured")
    unit: str = ""
    better: Literal["higher", "lower"] = "higher"
    baseline: float | None = None
    baseline_label: str = ""
    note: str = ""
    source: str = Field("ours", description="ours, ragas, or the benchmark it comes from")


class Trial(BaseModel):
    passed: bool
    failures: list[str] = Field(default_factory=list)
    error: str | None = None
    latencies_ms: list[float] = Field(default_factory=list)


class Case(BaseModel):
    name: str
    passed: bool = Field(description="every trial passed (pass^k)")
    trials: list[Trial]
    description: str = ""

    @property
    def failures(self) -> list[str]:
        first = next((t for t in self.trials if not t.passed), None)
        if first is None:
            return []
        return [first.error] if first.error else first.failures


class Suite(BaseModel):
    name: str
    status: Literal["ran", "skipped", "error"]
    message: str = ""
    seconds: float = 0.0
    metrics: list[Metric] = Field(default_factory=list)
    cases: list[Case] = Field(default_factory=list)
    latencies_ms: list[float] = Field(default_factory=list, description="time to card per event")

    def metric(self, key: str) -> Metric | None:
        return next((m for m in self.metrics if m.key == key), None)


class Provenance(BaseModel):
    """What a run ran on, so a reader can tell two runs apart and rerun a failure."""

    copilot_version: str
    git_commit: str = Field("", description="short commit of the checkout, when there is one")
    data_dir: str = Field("", description="the demo data folder; empty for other backends")
    data_customers: int | None = None
    data_seed: int | None = None
    data_as_of: date | None = None
    scenario_folder: str = ""
    scenario_files: int = 0
    scenario_hash: str = Field(
        "", description="sha256 over the scenario files' names and contents, sorted, 12 digits"
    )
    only: list[str] = Field(default_factory=list, description="the --only patterns, if any")
    datasets: str = Field("", description="--datasets when it was not the default")
    command_env: dict[str, str] = Field(
        default_factory=dict, description="COPILOT_* variables a rerun needs, as this run had them"
    )

    @property
    def data(self) -> str:
        """The data set in words: customers, seed, date."""
        if self.data_seed is None or self.data_customers is None:
            return "not generated demo data" if self.data_dir else "not the embedded demo data"
        day = f", as of {self.data_as_of}" if self.data_as_of else ""
        return f"{self.data_customers:,} customers, seed {self.data_seed}{day}"


class Run(BaseModel):
    schema_version: str = "1"
    run_id: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    engine: str
    trials: int
    suites: list[Suite]
    environment: dict[str, str] = Field(default_factory=dict)
    provenance: Provenance | None = None

    def metric(self, path: str) -> Metric | None:
        """A metric by `suite.key`."""
        suite_name, _, key = path.partition(".")
        suite = next((s for s in self.suites if s.name == suite_name), None)
        return suite.metric(key) if suite else None

    def metrics(self) -> dict[str, Metric]:
        return {f"{s.name}.{m.key}": m for s in self.suites for m in s.metrics}


def passed(cases: list[Case]) -> str:
    """`39/41`: cases that passed over cases."""
    return f"{sum(c.passed for c in cases)}/{len(cases)}"


def repro(run: Run, suite: str, case: str | None = None) -> list[str]:
    """Commands that rerun one suite (or one scenario of it) as this run did: the eval, exactly,
    then for a scenario `copilot replay` to watch its panel fill."""
    p = run.provenance
    env = " ".join(f"{k}={shlex.quote(v)}" for k, v in (p.command_env if p else {}).items())
    prefix = f"{env} " if env else ""
    args = ["copilot", "eval", "run", suite]
    if run.engine != "offline":
        args += ["--engine", run.engine]
    if run.trials != 1:
        args += ["--trials", str(run.trials)]
    folder = p.scenario_folder if p else ""
    if suite == "scenarios":
        if folder and folder != SHIPPED_SCENARIOS:
            args += ["--scenarios", folder]
        if case is not None:
            args += ["--only", case]
    elif p is not None and p.datasets:
        args += ["--datasets", p.datasets]
    commands = [prefix + shlex.join(args)]
    if suite == "scenarios" and case is not None:
        path = f"{folder or SHIPPED_SCENARIOS}/{case}.yaml"
        commands.append(prefix + shlex.join(["copilot", "replay", path]))
    return commands


def save(run: Run, out: Path, html: str) -> tuple[Path, Path]:
    """Write both files through temporary names, so a crash never leaves half a report."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, body in ((REPORT_FILE, run.model_dump_json(indent=2)), (HTML_FILE, html)):
        tmp = out / f".{name}.tmp"
        tmp.write_text(body, encoding="utf-8")
        tmp.replace(out / name)
        written.append(out / name)
    return written[0], written[1]


def load(path: Path) -> Run:
    """A run from its folder or its report.json; problems are InvalidInput naming the file."""
    file = path / REPORT_FILE if path.is_dir() else path
    if not file.is_file():
        raise InvalidInput("run", f"{file} does not exist: give a folder from `copilot eval run`")
    try:
        return Run.model_validate(json.loads(file.read_text(encoding="utf-8")))
    except (ValueError, UnicodeDecodeError) as exc:
        if isinstance(exc, ValidationError):
            first = exc.errors()[0]
            where = ".".join(str(p) for p in first["loc"])
            raise InvalidInput("run", f"{file}: {where}: {first['msg']}") from None
        raise InvalidInput("run", f"{file}: not a report ({str(exc).splitlines()[0]})") from None
