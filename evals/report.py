"""What an eval run produces: suites of metrics and cases, saved as JSON beside an HTML page."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, ValidationError

from tools.errors import InvalidInput

REPORT_FILE = "report.json"
HTML_FILE = "report.html"


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


class Run(BaseModel):
    schema_version: str = "1"
    run_id: str
    created_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    engine: str
    trials: int
    suites: list[Suite]
    environment: dict[str, str] = Field(default_factory=dict)

    def metric(self, path: str) -> Metric | None:
        """A metric by `suite.key`."""
        suite_name, _, key = path.partition(".")
        suite = next((s for s in self.suites if s.name == suite_name), None)
        return suite.metric(key) if suite else None

    def metrics(self) -> dict[str, Metric]:
        return {f"{s.name}.{m.key}": m for s in self.suites for m in s.metrics}


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
