"""Two runs side by side: which metrics got better or worse, and which cases flipped."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rich.table import Table
from rich.text import Text

from evals.report import Metric, Run
from evals.thresholds import Threshold, fmt_number, fmt_value

TOLERANCE = 0.005
"""A change within 0.5 % of the larger of the two values counts as the same."""

Verdict = Literal["better", "worse", "same", "new", "gone"]
STYLES: dict[str, str] = {
    "better": "green",
    "worse": "bold red",
    "same": "dim",
    "new": "cyan",
    "gone": "yellow",
}


@dataclass(frozen=True)
class MetricDelta:
    """One `suite.key` in either run.

    `new` means measured in B only (absent or None in A), `gone` measured in A only. Both
    unmeasured counts as `same`. `passes_a`/`passes_b` are the threshold checks (None when there
    is no threshold for the key or no value to check).
    """

    key: str
    label: str
    unit: str
    better: Literal["higher", "lower"]
    a: float | None
    b: float | None
    delta: float | None
    verdict: Verdict
    threshold: Threshold | None = None
    passes_a: bool | None = None
    passes_b: bool | None = None


@dataclass(frozen=True)
class CaseFlip:
    """A case in both runs whose pass^k result differs."""

    suite: str
    case: str
    a_passed: bool
    b_passed: bool

    @property
    def verdict(self) -> Verdict:
        return "better" if self.b_passed else "worse"


@dataclass(frozen=True)
class Comparison:
    run_a: str
    run_b: str
    metrics: list[MetricDelta] = field(default_factory=list)
    flips: list[CaseFlip] = field(default_factory=list)

    @property
    def regressions(self) -> list[str]:
        """Metric keys that got worse and `suite/case` names that started failing."""
        worse = [m.key for m in self.metrics if m.verdict == "worse"]
        return worse + [f"{f.suite}/{f.case}" for f in self.flips if f.verdict == "worse"]


def verdict(a: float | None, b: float | None, better: Literal["higher", "lower"]) -> Verdict:
    """How B stands against A, given which direction is better."""
    if a is None and b is None:
        return "same"
    if a is None:
        return "new"
    if b is None:
        return "gone"
    if abs(b - a) <= TOLERANCE * max(abs(a), abs(b)):
        return "same"
    up = b > a
    return "better" if up == (better == "higher") else "worse"


def compare(a: Run, b: Run, thresholds: dict[str, Threshold] | None = None) -> Comparison:
    """Every metric key present in either run (A's order, then B's new ones) and flipped cases."""
    ma, mb = a.metrics(), b.metrics()
    thresholds = thresholds or {}
    deltas: list[MetricDelta] = []
    for key in [*ma, *(k for k in mb if k not in ma)]:
        left, right = ma.get(key), mb.get(key)
        shown: Metric | None = right if right is not None else left
        if shown is None:  # the key came from one of the two, so never
            continue
        va = left.value if left else None
        vb = right.value if right else None
        threshold = thresholds.get(key)
        deltas.append(
            MetricDelta(
                key=key,
                label=shown.label,
                unit=shown.unit,
                better=shown.better,
                a=va,
                b=vb,
                delta=vb - va if va is not None and vb is not None else None,
                verdict=verdict(va, vb, shown.better),
                threshold=threshold,
                passes_a=threshold.check(va) if threshold else None,
                passes_b=threshold.check(vb) if threshold else None,
            )
        )
    before = {(s.name, c.name): c.passed for s in a.suites for c in s.cases}
    flips = [
        CaseFlip(s.name, c.name, before[(s.name, c.name)], c.passed)
        for s in b.suites
        for c in s.cases
        if (s.name, c.name) in before and before[(s.name, c.name)] != c.passed
    ]
    return Comparison(a.run_id, b.run_id, deltas, flips)


def _delta(m: MetricDelta) -> str:
    if m.delta is None:
        return ""
    sign = "+" if m.delta > 0 else ""
    return f"{sign}{fmt_number(m.delta)}"


def _mark(passes: bool | None) -> str:
    return {True: " ✓", False: " ✗", None: ""}[passes]


def render_comparison(c: Comparison) -> Table:
    """A terminal table: metrics first, then (after a rule) the cases that flipped."""
    with_thresholds = any(m.threshold for m in c.metrics)
    table = Table(title=Text(f"{c.run_a} → {c.run_b}"), title_justify="left")
    table.add_column("metric")
    table.add_column("A", justify="right")
    table.add_column("B", justify="right")
    table.add_column("Δ", justify="right")
    table.add_column("verdict")
    if with_thresholds:
        table.add_column("threshold")
    for m in c.metrics:
        row = [
            Text(f"{m.key}  {m.label}" if m.label else m.key),
            Text(fmt_value(m.a, m.unit) + _mark(m.passes_a)),
            Text(fmt_value(m.b, m.unit) + _mark(m.passes_b)),
            Text(_delta(m)),
            Text(m.verdict, style=STYLES[m.verdict]),
        ]
        if with_thresholds:
            row.append(Text(m.threshold.describe() if m.threshold else ""))
        table.add_row(*row)
    if c.flips:
        table.add_section()
        for f in c.flips:
            row = [
                Text(f"{f.suite}/{f.case}"),
                Text("pass" if f.a_passed else "fail"),
                Text("pass" if f.b_passed else "fail"),
                Text(""),
                Text(f.verdict, style=STYLES[f.verdict]),
            ]
            if with_thresholds:
                row.append(Text(""))
            table.add_row(*row)
    return table


def comparison_lines(c: Comparison) -> list[str]:
    """The same as plain text lines, for logs and CI output."""
    lines = [f"{c.run_a} -> {c.run_b}"]
    for m in c.metrics:
        change = f" ({_delta(m)})" if m.delta is not None else ""
        lines.append(
            f"{m.verdict:6} {m.key}: {fmt_value(m.a, m.unit)} -> {fmt_value(m.b, m.unit)}{change}"
        )
    for f in c.flips:
        was, now = ("pass" if f.a_passed else "fail"), ("pass" if f.b_passed else "fail")
        lines.append(f"{f.verdict:6} {f.suite}/{f.case}: {was} -> {now}")
    return lines
