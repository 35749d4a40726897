"""Pass marks for metrics: `suite.metric_key: {min: x}` or `{max: y}`, checked against a run.

A thresholds file is a YAML mapping from `suite.metric_key` to a minimum, a maximum or both:

    intent.test_accuracy: {min: 93}
    latency.p95_ms: {max: 800}

`breaches(run, thresholds)` turns a run into one readable line per threshold not met.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.yamlfile import read_yaml
from evals.report import Metric, Run
from tools.errors import InvalidInput


def fmt_number(value: float) -> str:
    """A metric value as a person reads it: 93, 91.2, 812.5, 0.873."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    if abs(value) >= 100:
        text = f"{value:.1f}"
    elif abs(value) >= 1:
        text = f"{value:.2f}"
    else:
        return f"{value:.3g}"
    return text.rstrip("0").rstrip(".")


def fmt_value(value: float | None, unit: str = "") -> str:
    """A value with its unit ("91.2 %"), or "—" when nothing was measured."""
    if value is None:
        return "—"
    return f"{fmt_number(value)} {unit}" if unit else fmt_number(value)


class Threshold(BaseModel):
    """A metric passes when it is at least `min` and at most `max` (either may be left out)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    min: float | None = None
    max: float | None = None
    engine: Literal["offline", "llm"] | None = Field(
        None, description="judge only runs of this engine (metrics only that engine reports)"
    )

    @model_validator(mode="after")
    def _bounds(self) -> Threshold:
        if self.min is None and self.max is None:
            raise ValueError("give min, max or both")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {fmt_number(self.min)} is above max {fmt_number(self.max)}")
        return self

    def check(self, value: float | None) -> bool | None:
        """True when met, False when not, None when there is no value to judge."""
        if value is None:
            return None
        if self.min is not None and value < self.min:
            return False
        return not (self.max is not None and value > self.max)

    def describe(self) -> str:
        """ "≥ 93", "≤ 800" or "93 – 99", for tables."""
        low, high = self.min, self.max
        if low is not None and high is not None:
            return f"{fmt_number(low)} – {fmt_number(high)}"
        if low is not None:
            return f"≥ {fmt_number(low)}"
        return f"≤ {fmt_number(high)}" if high is not None else ""

    def shortfall(self, metric: Metric) -> str | None:
        """Why `metric` misses this threshold ("91.2 % < min 93"), or None when it does not."""
        value = metric.value
        if value is None:
            return None
        shown = fmt_value(value, metric.unit)
        if self.min is not None and value < self.min:
            return f"{shown} < min {fmt_number(self.min)}"
        if self.max is not None and value > self.max:
            return f"{shown} > max {fmt_number(self.max)}"
        return None


def load_thresholds(path: Path) -> dict[str, Threshold]:
    """Thresholds by `suite.metric_key`; problems are InvalidInput naming the file and the key."""
    data = read_yaml(path, "thresholds")
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise InvalidInput(
            "thresholds",
            f"{path}: expected a mapping of suite.metric_key to {{min: x}} or {{max: y}}, "
            f"not {type(data).__name__}",
        )
    out: dict[str, Threshold] = {}
    for key, body in data.items():
        if not isinstance(key, str) or not _is_metric_path(key):
            raise InvalidInput(
                "thresholds", f"{path}: {key!r}: keys are suite.metric_key, e.g. intent.accuracy"
            )
        if not isinstance(body, dict):
            raise InvalidInput(
                "thresholds", f"{path}: {key}: expected {{min: x}} or {{max: y}}, not {body!r}"
            )
        for bound in ("min", "max"):
            if isinstance(body.get(bound), bool):  # YAML's yes/no would otherwise read as 1/0
                raise InvalidInput("thresholds", f"{path}: {key}.{bound}: expected a number")
        try:
            out[key] = Threshold.model_validate(body)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join([key, *(str(p) for p in first["loc"])])
            message = first["msg"].removeprefix("Value error, ")
            raise InvalidInput("thresholds", f"{path}: {where}: {message}") from None
    return out


def _is_metric_path(key: str) -> bool:
    suite, dot, metric = key.partition(".")
    return bool(dot and suite.strip() and metric.strip())


class Breaches(NamedTuple):
    """What `breaches` found: lines that fail the run, and lines only worth telling.

    `breaches` holds one line per threshold not met; `notes` holds the thresholds that could not
    be judged but do not count against the run (metrics of skipped suites, when not strict).
    It unpacks: `failed, notes = breaches(run, thresholds)`.
    """

    breaches: list[str]
    notes: list[str]

    @property
    def ok(self) -> bool:
        return not self.breaches


def breaches(run: Run, thresholds: dict[str, Threshold], strict: bool = True) -> Breaches:
    """One readable line per threshold not met, in the order of `thresholds`.

    A metric below min or above max is a breach ("intent.test_accuracy 91.2 % < min 93"), and so
    is a metric measured as None, one its suite never reported, and any metric of a suite that
    errored. A metric of a skipped suite, or of a suite the run did not include, is a breach only
    when `strict`; otherwise it goes to notes.
    """
    suites = {s.name: s for s in run.suites}
    found: list[str] = []
    notes: list[str] = []
    for path, threshold in thresholds.items():
        if threshold.engine is not None and threshold.engine != run.engine:
            continue
        suite_name, _, key = path.partition(".")
        suite = suites.get(suite_name)
        if suite is None:
            line = f"{path} not measured (no suite {suite_name!r} in this run)"
            (found if strict else notes).append(line)
            continue
        if suite.status == "skipped":
            line = f"{path} not measured (suite skipped: {suite.message or 'no reason given'})"
            (found if strict else notes).append(line)
            continue
        if suite.status == "error":
            found.append(f"{path} not measured (suite error: {suite.message or 'no message'})")
            continue
        metric = suite.metric(key)
        if metric is None:
            found.append(f"{path} not measured (suite {suite_name!r} reports no such metric)")
            continue
        if metric.value is None:  # e.g. no scenario in this run expects a citation
            (found if strict else notes).append(f"{path} not measured (nothing in the run for it)")
            continue
        short = threshold.shortfall(metric)
        if short is not None:
            found.append(f"{path} {short}")
    return Breaches(found, notes)
