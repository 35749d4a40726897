"""Two runs side by side: which metrics got better or worse, and which cases flipped.

Latency (metrics in ms) moves from run to run on the same code; a move within the noise band is
shown as `noise`, never as a regression or a gain.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from rich.table import Table
from rich.text import Text

from evals.report import Metric, Run, passed
from evals.thresholds import Threshold, fmt_number, fmt_value

TOLERANCE = 0.005
"""A change within 0.5 % of the larger of the two values counts as the same."""

Verdict = Literal["better", "worse", "same", "noise", "new", "gone"]
STYLES: dict[str, str] = {
    "better": "green",
    "worse": "bold red",
    "same": "dim",
    "noise": "dim",
    "new": "cyan",
    "gone": "yellow",
}


@dataclass(frozen=True)
class Noise:
    """A latency change counts only past both bounds: `ratio` of run A's value and `floor_ms`.

    Two runs of the same code on a shared machine differ by a quarter in p50 and p95 and by
    several times on a handful of events, so a narrower band would flag every run.
    """

    ratio: float = 0.5
    floor_ms: float = 20.0

    def covers(self, a: float, b: float) -> bool:
        change = abs(b - a)
        return change <= self.floor_ms or change <= self.ratio * abs(a)

    def describe(self) -> str:
        return f"latency within {self.ratio:.0%} or {fmt_number(self.floor_ms)} ms is noise"


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
    added_failing: list[str] = field(default_factory=list)
    """`suite/case` in B only, failing there: a new scenario that does not pass yet."""
    broken_suites: list[str] = field(default_factory=list)
    """Suites that ran in A and errored in B: nothing of theirs could be compared."""
    counts: list[tuple[str, str, str]] = field(default_factory=list)
    """(suite, `passed/total` in A, in B) for suites with cases in either run."""
    differences: list[str] = field(default_factory=list)
    """What the two runs ran on that differs: scenario files, data, engine, trials, version."""

    @property
    def newly_failing(self) -> list[str]:
        return [f"{f.suite}/{f.case}" for f in self.flips if f.verdict == "worse"]

    @property
    def newly_passing(self) -> list[str]:
        return [f"{f.suite}/{f.case}" for f in self.flips if f.verdict == "better"]

    @property
    def regressions(self) -> list[str]:
        """Metric keys that got worse, suites that broke and `suite/case` names that started
        failing; latency noise is never one."""
        worse = [m.key for m in self.metrics if m.verdict == "worse"]
        return worse + self.broken_suites + self.newly_failing


def verdict(
    a: float | None,
    b: float | None,
    better: Literal["higher", "lower"],
    tolerance: float = TOLERANCE,
    noise: Noise | None = None,
) -> Verdict:
    """How B stands against A, given which direction is better; `noise` for latency."""
    if a is None and b is None:
        return "same"
    if a is None:
        return "new"
    if b is None:
        return "gone"
    if abs(b - a) <= tolerance * max(abs(a), abs(b)):
        return "same"
    if noise is not None and noise.covers(a, b):
        return "noise"
    up = b > a
    return "better" if up == (better == "higher") else "worse"


def _ran_on(a: Run, b: Run) -> list[str]:
    """Lines naming what differs between the runs' inputs, so a flip can be read rightly."""
    out = []
    if a.engine != b.engine:
        out.append(f"engine: {a.engine} -> {b.engine}")
    if a.trials != b.trials:
        out.append(f"trials: {a.trials} -> {b.trials}")
    pa, pb = a.provenance, b.provenance
    if pa is None or pb is None:
        if pa is not pb:
            out.append("one run predates recorded versions, data and scenario hashes")
        return out
    va = f"{pa.copilot_version} {pa.git_commit}".strip()
    vb = f"{pb.copilot_version} {pb.git_commit}".strip()
    if va != vb:
        out.append(f"copilot: {va} -> {vb}")
    if pa.data != pb.data or pa.data_dir != pb.data_dir:
        out.append(f"data: {pa.data} ({pa.data_dir}) -> {pb.data} ({pb.data_dir})")
    if pa.scenario_hash != pb.scenario_hash:
        out.append(
            f"scenario files: {pa.scenario_files} sha256 {pa.scenario_hash or '-'} -> "
            f"{pb.scenario_files} sha256 {pb.scenario_hash or '-'}"
        )
    return out


def compare(
    a: Run,
    b: Run,
    thresholds: dict[str, Threshold] | None = None,
    *,
    tolerance: float = TOLERANCE,
    noise: Noise | None = None,
) -> Comparison:
    """Every metric key present in either run (A's order, then B's new ones) and flipped cases.

    tolerance: a relative change this small is `same`; noise: the band for metrics in ms
    (default `Noise()`).
    """
    ma, mb = a.metrics(), b.metrics()
    thresholds = thresholds or {}
    band = noise or Noise()
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
                verdict=verdict(
                    va, vb, shown.better, tolerance, band if shown.unit == "ms" else None
                ),
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
    added = [
        f"{s.name}/{c.name}"
        for s in b.suites
        for c in s.cases
        if (s.name, c.name) not in before and not c.passed
    ]
    ran = {s.name for s in a.suites if s.status == "ran"}
    broken = [
        f"{s.name} (error: {s.message})" for s in b.suites if s.status == "error" and s.name in ran
    ]
    suites_a = {s.name: s for s in a.suites}
    counts = [
        (s.name, passed(suites_a[s.name].cases) if s.name in suites_a else "-", passed(s.cases))
        for s in b.suites
        if s.cases or (s.name in suites_a and suites_a[s.name].cases)
    ]
    return Comparison(a.run_id, b.run_id, deltas, flips, added, broken, counts, _ran_on(a, b))


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


def findings(c: Comparison) -> list[tuple[str, str]]:
    """(style, line) for what a reader must not miss: inputs that differ, pass counts, the cases
    that flipped, new failing cases and suites that broke."""
    out = [("yellow", f"note: the runs differ in {d}") for d in c.differences]
    out += [("", f"{suite}: {was} -> {now} passed") for suite, was, now in c.counts]
    if c.newly_failing:
        out.append(
            ("bold red", f"newly failing ({len(c.newly_failing)}): " + ", ".join(c.newly_failing))
        )
    if c.newly_passing:
        out.append(
            ("green", f"newly passing ({len(c.newly_passing)}): " + ", ".join(c.newly_passing))
        )
    if c.added_failing:
        out.append(
            (
                "yellow",
                f"new in B and failing ({len(c.added_failing)}): " + ", ".join(c.added_failing),
            )
        )
    out += [("bold red", f"broke: {s}") for s in c.broken_suites]
    noise = [m.key for m in c.metrics if m.verdict == "noise"]
    if noise:
        out.append(("dim", f"latency noise, not counted: {', '.join(noise)}"))
    return out
