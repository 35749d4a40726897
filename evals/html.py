"""One self-contained HTML page for an eval run: inline CSS and SVG, nothing fetched from outside.

The page is opened from disk by people who did not run the evals, so everything taken from the
run (suite and case names, failure lines, notes, environment values) is HTML-escaped, and a
Content-Security-Policy forbids scripts and any outside request should anything slip through.
"""

from __future__ import annotations

import math
from html import escape

from evals.report import Case, Metric, Run, Suite, passed, repro, slug
from evals.thresholds import Breaches, Threshold, breaches, fmt_number, fmt_value

BINS = 20
PASS, FAIL, NEUTRAL, BASELINE = "#2e7d32", "#c62828", "#4a6fa5", "#8a94a6"

CSS = """
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans",
  sans-serif; color: #1d2330; background: #f5f6f8; }
main { max-width: 1120px; margin: 0 auto; padding: 24px 28px 48px; }
h1 { font-size: 22px; margin: 0 0 4px; }
h2 { font-size: 18px; margin: 0; display: flex; gap: 10px; align-items: baseline; flex-wrap: wrap; }
h3 { font-size: 14px; margin: 20px 0 6px; color: #4b5363; text-transform: uppercase;
  letter-spacing: .04em; }
code, pre, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace;
  font-size: 12.5px; }
header, section.suite { background: #fff; border: 1px solid #dde1e8; border-radius: 8px;
  padding: 18px 22px; margin-bottom: 18px; }
dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: 2px 16px; margin: 10px 0; }
dl.meta dt { color: #5d6575; }
dl.meta dd { margin: 0; overflow-wrap: anywhere; }
.verdict { font-size: 15px; font-weight: 600; padding: 8px 12px; border-radius: 6px;
  margin: 12px 0 0; }
.verdict.good { background: #e6f4ea; color: #1e5b26; }
.verdict.warn { background: #fff4e0; color: #7a4b00; }
.verdict.bad { background: #fdecea; color: #8e1c1c; }
ul.lines { margin: 8px 0 0; padding-left: 20px; }
ul.lines li { overflow-wrap: anywhere; }
ul.lines.breach li { color: #8e1c1c; }
ul.lines.note li { color: #5d6575; }
details.notes { margin-top: 8px; color: #5d6575; }
details.notes summary { cursor: pointer; }
nav { margin-top: 12px; display: flex; flex-wrap: wrap; gap: 6px; }
nav a { text-decoration: none; color: #1d2330; border: 1px solid #dde1e8; border-radius: 999px;
  padding: 2px 10px; font-size: 13px; }
.badge { font-size: 12px; font-weight: 600; padding: 1px 8px; border-radius: 999px;
  text-transform: uppercase; letter-spacing: .04em; }
.badge.ran { background: #e6f4ea; color: #1e5b26; }
.badge.skipped { background: #eceff3; color: #4b5363; }
.badge.error { background: #fdecea; color: #8e1c1c; }
.secs { color: #5d6575; font-size: 13px; font-weight: normal; }
.message { white-space: pre-wrap; overflow-wrap: anywhere; padding: 8px 12px; border-radius: 6px;
  background: #f3f4f7; margin: 10px 0 0; }
.message.error { background: #fdecea; color: #8e1c1c; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid #eceef2;
  vertical-align: top; }
th { font-size: 12px; color: #5d6575; font-weight: 600; background: #fafbfc; }
.nowrap { white-space: nowrap; }
td.num, th.num { text-align: right; white-space: nowrap; font-variant-numeric: tabular-nums; }
td.note { color: #4b5363; max-width: 340px; overflow-wrap: anywhere; }
.key { color: #7a8291; font-size: 12px; display: block; }
.pass { color: #1e6b2a; font-weight: 600; white-space: nowrap; }
.fail { color: #b71c1c; font-weight: 600; white-space: nowrap; }
.muted { color: #7a8291; }
tr.failed td { background: #fff8f7; }
ul.failures { margin: 0; padding-left: 16px; }
ul.failures li, pre.error { white-space: pre-wrap; overflow-wrap: anywhere; margin: 0; }
pre.error { color: #8e1c1c; }
figure { margin: 10px 0 0; }
figcaption { color: #5d6575; font-size: 12.5px; margin-top: 2px; }
svg { max-width: 100%; height: auto; display: block; }
svg text { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
footer { color: #7a8291; font-size: 12px; text-align: center; }
section.failures { background: #fff; border: 1px solid #e8b4ae; border-left: 4px solid #c62828;
  border-radius: 8px; padding: 18px 22px; margin-bottom: 18px; }
ol.failures { margin: 10px 0 0; padding-left: 22px; }
ol.failures > li { margin: 0 0 14px; overflow-wrap: anywhere; }
ol.failures a { color: #8e1c1c; font-weight: 600; }
.kind { color: #5d6575; font-size: 12px; margin-left: 6px; }
.repro { margin: 4px 0 0; }
.repro pre { margin: 2px 0 0; padding: 6px 10px; background: #f3f4f7; border-radius: 6px;
  white-space: pre-wrap; overflow-wrap: anywhere; user-select: all; }
.count { font-size: 13px; font-weight: 600; }
.count.all { color: #1e6b2a; }
.count.some { color: #b71c1c; }
"""
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"


def e(value: object) -> str:
    """Escaped for HTML text and attribute values alike."""
    return escape(str(value), quote=True)


def _px(value: float) -> str:
    return f"{value:.1f}"


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0–100) with linear interpolation between ranks, as numpy does."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def render(run: Run, thresholds: dict[str, Threshold] | None = None) -> str:
    """The whole page as a string; write it with `evals.report.save`."""
    thresholds = thresholds or {}
    found = breaches(run, thresholds, strict=False) if thresholds else None
    anchors = _anchors(run.suites)
    body = [_header(run, thresholds, found, anchors), _failures(run, found, anchors)]
    body += [_suite(s, a, run, thresholds) for s, a in zip(run.suites, anchors, strict=True)]
    body.append(
        f"<footer>schema {e(run.schema_version)} · run {e(run.run_id)} · "
        "this page loads nothing from outside</footer>"
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="Content-Security-Policy" content="{e(CSP)}">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        '<meta name="referrer" content="no-referrer">\n'
        f"<title>Eval run {e(run.run_id)}</title>\n<style>{CSS}</style>\n</head>\n"
        "<body>\n<main>\n" + "\n".join(body) + "\n</main>\n</body>\n</html>\n"
    )


def _anchors(suites: list[Suite]) -> list[str]:
    seen: set[str] = set()
    out = []
    for i, suite in enumerate(suites, 1):
        anchor = f"suite-{slug(suite.name) or i}"
        if anchor in seen:
            anchor = f"{anchor}-{i}"
        seen.add(anchor)
        out.append(anchor)
    return out


# header


def _header(
    run: Run, thresholds: dict[str, Threshold], found: Breaches | None, anchors: list[str]
) -> str:
    count = {status: sum(s.status == status for s in run.suites) for status in ("ran", "skipped")}
    errored = sum(s.status == "error" for s in run.suites)
    cases = [c for s in run.suites for c in s.cases]
    good = sum(c.passed for c in cases)
    parts = [
        f"{len(run.suites)} suite{'s' if len(run.suites) != 1 else ''}: {count['ran']} ran, "
        f"{count['skipped']} skipped, {errored} errored",
        f"{good}/{len(cases)} cases passed (pass^{run.trials})" if cases else "no cases",
    ]
    names = {s.name for s in run.suites}
    judged = {k: t for k, t in thresholds.items() if k.partition(".")[0] in names}
    not_met = unmeasured = 0
    for path, threshold in judged.items():
        metric = _measured(run, path)
        verdict = threshold.check(metric.value) if metric else None
        not_met += verdict is False
        unmeasured += verdict is None
    if thresholds:
        text = f"{not_met} of {len(judged)} metrics below threshold"
        text += f", {unmeasured} not measured" if unmeasured else ""
        if len(judged) < len(thresholds):
            absent = len(thresholds) - len(judged)
            text += f" ({absent} threshold{'s' if absent != 1 else ''} for suites not in this run)"
        parts.append(text)
    tone = "good"
    if (cases and good < len(cases)) or count["skipped"] or unmeasured:
        tone = "warn"
    if errored or not_met or (found is not None and not found.ok):
        tone = "bad"
    env = "".join(
        f"<dt>{e(k)}</dt><dd><code>{e(v)}</code></dd>" for k, v in run.environment.items()
    )
    lines = ""
    if found is not None and found.notes:
        items = "".join(f"<li>{e(line)}</li>" for line in found.notes)
        noted = len(found.notes)
        lines += (
            f'<details class="notes"><summary>{noted} threshold{"s" if noted != 1 else ""} '
            "not judged: suite skipped or not in this run</summary>"
            f'<ul class="lines note">{items}</ul></details>'
        )
    links = "".join(
        f'<a href="#{e(a)}">{e(s.name)} <span class="muted">'
        f"{e(passed(s.cases) if s.cases else s.status)}</span></a>"
        for s, a in zip(run.suites, anchors, strict=True)
    )
    return (
        f"<header>\n<h1>Eval run <code>{e(run.run_id)}</code></h1>\n"
        '<dl class="meta">'
        f"<dt>created</dt><dd>{e(run.created_at.strftime('%Y-%m-%d %H:%M:%S %Z').strip())}</dd>"
        f"{_provenance(run)}"
        f"<dt>engine</dt><dd><code>{e(run.engine)}</code></dd>"
        f"<dt>trials (K)</dt><dd>{e(run.trials)}</dd>{env}</dl>\n"
        f'<p class="verdict {tone}">{" · ".join(e(p) for p in parts)}</p>\n'
        f"{lines}<nav>{links}</nav>\n</header>"
    )


def _provenance(run: Run) -> str:
    """Version, data set and scenario files: what a reader checks before trusting a change."""
    p = run.provenance
    if p is None:
        return '<dt>ran on</dt><dd class="muted">not recorded (an older report)</dd>'
    commit = f" · git <code>{e(p.git_commit)}</code>" if p.git_commit else ""
    where = f" · <code>{e(p.data_dir)}</code>" if p.data_dir else ""
    rows = [
        f"<dt>copilot</dt><dd><code>{e(p.copilot_version)}</code>{commit}</dd>",
        f"<dt>data</dt><dd>{e(p.data)}{where}</dd>",
    ]
    if p.scenario_folder:
        digest = f"sha256 <code>{e(p.scenario_hash)}</code>" if p.scenario_hash else "no hash"
        rows.append(
            f"<dt>scenarios</dt><dd>{e(p.scenario_files)} files · {digest} · "
            f"<code>{e(p.scenario_folder)}</code></dd>"
        )
    if p.only:
        rows.append(f"<dt>only</dt><dd><code>{e(' '.join(p.only))}</code></dd>")
    return "".join(rows)


# failures, before everything else


def _case_anchor(suite_anchor: str, case: Case) -> str:
    return f"{suite_anchor}-case-{slug(case.name) or 'x'}"


def _failures(run: Run, found: Breaches | None, anchors: list[str]) -> str:
    """Every failure, first on the page: suites that errored, failed cases, thresholds missed,
    each with the command that reproduces it."""
    by_name = dict(zip((s.name for s in run.suites), anchors, strict=True))
    errors, cases, missed = [], [], []
    named: set[str] = set()
    for line in found.breaches if found else []:
        name = line.partition(".")[0]
        named.add(name)
        missed.append(_failure(line, "threshold", by_name.get(name), [], repro(run, name)))
    for suite, anchor in zip(run.suites, anchors, strict=True):
        if suite.status == "error" and suite.name not in named:
            errors.append(
                _failure(suite.name, "suite error", anchor, [suite.message], repro(run, suite.name))
            )
        for case in suite.cases:
            if not case.passed:
                cases.append(
                    _failure(
                        f"{suite.name}/{case.name}",
                        _trials(case),
                        _case_anchor(anchor, case),
                        case.failures,
                        repro(run, suite.name, case.name),
                    )
                )
    items = errors + cases + missed
    if not items:
        return ""
    return (
        '<section class="failures" id="failures">\n'
        f'<h2>Failures <span class="count some">{len(items)}</span></h2>\n'
        f'<ol class="failures">{"".join(items)}</ol>\n</section>'
    )


def _trials(case: Case) -> str:
    failed = sum(not t.passed for t in case.trials)
    return f"failed {failed} of {len(case.trials)} trials" if len(case.trials) > 1 else "failed"


def _failure(title: str, kind: str, anchor: str | None, why: list[str], commands: list[str]) -> str:
    head = f'<a href="#{e(anchor)}">{e(title)}</a>' if anchor else e(title)
    reasons = "".join(f"<li>{e(line)}</li>" for line in why)
    labels = ["reproduce:", "watch the panel:"]
    shown = "".join(
        f'<div class="repro"><span class="muted">{labels[min(i, 1)]}</span>'
        f"<pre><code>{e(cmd)}</code></pre></div>"
        for i, cmd in enumerate(commands)
    )
    return (
        f'<li>{head}<span class="kind">{e(kind)}</span>'
        f"{f'<ul class=failures>{reasons}</ul>' if reasons else ''}{shown}</li>"
    )


def _measured(run: Run, path: str) -> Metric | None:
    """The metric at `suite.key`, only when its suite ran."""
    suite_name, _, key = path.partition(".")
    suite = next((s for s in run.suites if s.name == suite_name), None)
    return suite.metric(key) if suite is not None and suite.status == "ran" else None


# one suite


def _suite(suite: Suite, anchor: str, run: Run, thresholds: dict[str, Threshold]) -> str:
    count = ""
    if suite.cases:
        tone = "all" if all(c.passed for c in suite.cases) else "some"
        count = f'<span class="count {tone}">{e(passed(suite.cases))} passed</span>'
    out = [
        f'<section class="suite" id="{e(anchor)}">',
        f'<h2>{e(suite.name)} <span class="badge {e(suite.status)}">{e(suite.status)}</span>'
        f'{count}<span class="secs">{e(fmt_number(round(suite.seconds, 1)))} s</span></h2>',
    ]
    if suite.message:
        kind = " error" if suite.status == "error" else ""
        out.append(f'<p class="message{kind}">{e(suite.message)}</p>')
    own = {m.key: thresholds.get(f"{suite.name}.{m.key}") for m in suite.metrics}
    if suite.metrics:
        out += ["<h3>Metrics</h3>", _metrics_table(suite.metrics, own)]
        bars = _metric_bars(suite.metrics, own)
        if bars:
            out.append(bars)
    if suite.cases:
        out += ["<h3>Cases</h3>", _cases_table(suite.cases, run.trials, anchor)]
    if suite.latencies_ms:
        out += ["<h3>Time to card</h3>", _histogram(suite.latencies_ms)]
    out.append("</section>")
    return "\n".join(out)


def _mark(ok: bool | None) -> str:
    if ok is None:
        return '<span class="muted">not measured</span>'
    return '<span class="pass">✓ pass</span>' if ok else '<span class="fail">✗ fail</span>'


def _metrics_table(metrics: list[Metric], own: dict[str, Threshold | None]) -> str:
    with_thresholds = any(own.values())
    head = ["Metric", "Value", "Baseline", "Better"]
    head += ["Threshold"] if with_thresholds else []
    head += ["Note", "Source"]
    rows = []
    for m in metrics:
        baseline = ""
        if m.baseline is not None:
            label = f' <span class="key">{e(m.baseline_label)}</span>' if m.baseline_label else ""
            baseline = f"{e(fmt_value(m.baseline, m.unit))}{label}"
        arrow = "↑ higher" if m.better == "higher" else "↓ lower"
        value = e(fmt_value(m.value, m.unit)) if m.value is not None else _mark(None)
        cells = [
            f'<td>{e(m.label)}<span class="key">{e(m.key)}</span></td>',
            f'<td class="num"><strong>{value}</strong></td>',
            f'<td class="num">{baseline}</td>',
            f'<td class="muted nowrap">{arrow}</td>',
        ]
        threshold = own.get(m.key)
        if with_thresholds:
            mark = (
                f"{e(threshold.describe())} {_mark(threshold.check(m.value))}" if threshold else ""
            )
            cells.append(f'<td class="num">{mark}</td>')
        cells += [f'<td class="note">{e(m.note)}</td>', f"<td>{e(m.source)}</td>"]
        failed = threshold is not None and threshold.check(m.value) is False
        row_class = ' class="failed"' if failed else ""
        rows.append(f"<tr{row_class}>{''.join(cells)}</tr>")
    numeric = {"Value", "Baseline", "Threshold"}
    th = "".join(f"<th{' class=num' if h in numeric else ''}>{h}</th>" for h in head)
    body = "".join(rows)
    return f'<table class="metrics"><thead><tr>{th}</tr></thead><tbody>{body}</tbody></table>'


def _metric_bars(metrics: list[Metric], own: dict[str, Threshold | None]) -> str:
    """One row per measured metric, each on its own scale from 0 (or its lowest) to a bit past
    the largest of value, baseline and threshold; percent and 0–1 metrics stop at 100 or 1."""
    measured = [m for m in metrics if m.value is not None]
    if not measured:
        return ""
    width, label_w, x0, bar_w, row_h, top = 1000, 240, 252, 420, 40, 30
    height = top + row_h * len(measured) + 6
    parts = [
        f'<svg class="bars" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
        'role="img" aria-label="metric values against baselines and thresholds">',
        _legend(x0),
    ]
    for i, m in enumerate(measured):
        value = m.value if m.value is not None else 0.0
        parts.append(_bar_row(m, value, own.get(m.key), top + i * row_h, label_w, x0, bar_w, row_h))
    parts.append("</svg>")
    caption = (
        "<figcaption>Each bar is on its own scale, from 0 to a little past the largest of its "
        "value, baseline and threshold. Grey: baseline. Dashed line: threshold.</figcaption>"
    )
    return f"<figure>{''.join(parts)}{caption}</figure>"


def _legend(x0: int) -> str:
    items = [
        ("rect", PASS, "meets threshold"),
        ("rect", FAIL, "misses threshold"),
        ("rect", NEUTRAL, "no threshold"),
        ("rect", BASELINE, "baseline"),
        ("line", "#1d2330", "threshold"),
    ]
    out, x = [], x0
    for shape, colour, text in items:
        if shape == "rect":
            out.append(f'<rect x="{x}" y="8" width="12" height="10" rx="2" fill="{colour}"/>')
        else:
            out.append(
                f'<line x1="{x + 6}" y1="5" x2="{x + 6}" y2="21" stroke="{colour}" '
                'stroke-width="2" stroke-dasharray="3 2"/>'
            )
        out.append(f'<text x="{x + 17}" y="17" font-size="11.5" fill="#4b5363">{text}</text>')
        x += 30 + 6 * len(text)
    return "".join(out)


def _bar_row(
    m: Metric,
    value: float,
    threshold: Threshold | None,
    y: int,
    label_w: int,
    x0: int,
    bar_w: int,
    row_h: int,
) -> str:
    points = [value]
    points += [m.baseline] if m.baseline is not None else []
    if threshold is not None:
        points += [b for b in (threshold.min, threshold.max) if b is not None]
    low, high = min(0.0, *points), max(0.0, *points)
    axis_low, axis_high = low * 1.1, high * 1.1
    if m.unit.strip() == "%" and low >= 0 and high <= 100:
        axis_high = min(axis_high, 100.0)
    elif not m.unit and low >= 0 and high <= 1:
        axis_high = min(axis_high, 1.0)
    if axis_high <= axis_low:
        axis_high = axis_low + 1

    def x(v: float) -> float:
        return x0 + (v - axis_low) / (axis_high - axis_low) * bar_w

    ok = threshold.check(value) if threshold is not None else None
    colour = NEUTRAL if ok is None else PASS if ok else FAIL
    state = "none" if ok is None else "pass" if ok else "fail"
    zero = x(0.0)
    left, right = sorted((zero, x(value)))
    mid = y + row_h // 2
    out = [
        f'<g class="metric-bar" data-state="{state}">',
        f"<title>{e(m.label)}: {e(fmt_value(m.value, m.unit))}</title>",
        f'<text x="{label_w}" y="{mid - 1}" text-anchor="end" font-size="12.5" fill="#1d2330">'
        f"{e(_clip(m.label, 36))}</text>",
        f'<text x="{label_w}" y="{mid + 12}" text-anchor="end" font-size="10.5" fill="#7a8291">'
        f"{e(_clip(m.key, 40))}</text>",
        f'<rect x="{x0}" y="{mid - 12}" width="{bar_w}" height="16" rx="2" fill="#eef0f3"/>',
        f'<rect class="value" x="{_px(left)}" y="{mid - 12}" width="{_px(max(right - left, 1))}" '
        f'height="16" rx="2" fill="{colour}"/>',
    ]
    detail = []
    if m.baseline is not None:
        b_left, b_right = sorted((zero, x(m.baseline)))
        out.append(
            f'<rect class="baseline" x="{_px(b_left)}" y="{mid + 6}" '
            f'width="{_px(max(b_right - b_left, 1))}" height="5" rx="1" fill="{BASELINE}">'
            f"<title>baseline {e(m.baseline_label)}: {e(fmt_value(m.baseline, m.unit))}</title>"
            "</rect>"
        )
        name = f" ({_clip(m.baseline_label, 22)})" if m.baseline_label else ""
        detail.append(f"baseline {fmt_number(m.baseline)}{name}")
    if threshold is not None:
        for kind, bound in (("min", threshold.min), ("max", threshold.max)):
            if bound is None:
                continue
            tx = _px(x(bound))
            out.append(
                f'<line class="threshold" x1="{tx}" y1="{mid - 16}" x2="{tx}" y2="{mid + 14}" '
                'stroke="#1d2330" stroke-width="2" stroke-dasharray="3 2">'
                f"<title>{kind} {e(fmt_number(bound))}</title></line>"
            )
            detail.append(f"{kind} {fmt_number(bound)}")
    mark = {True: " ✓", False: " ✗", None: ""}[ok]
    out.append(
        f'<text x="{x0 + bar_w + 12}" y="{mid - 1}" font-size="13" font-weight="600" '
        f'fill="{colour if ok is not None else "#1d2330"}">{e(fmt_value(value, m.unit))}{mark}'
        "</text>"
    )
    if detail:
        out.append(
            f'<text x="{x0 + bar_w + 12}" y="{mid + 12}" font-size="10.5" fill="#5d6575">'
            f"{e(' · '.join(detail))}</text>"
        )
    out.append("</g>")
    return "".join(out)


def _cases_table(cases: list[Case], trials: int, anchor: str) -> str:
    rows = []
    for case in sorted(cases, key=lambda c: c.passed):  # stable: failures first, in run order
        good = sum(t.passed for t in case.trials)
        total = len(case.trials)
        planned = f' <span class="muted">of {trials} planned</span>' if total != trials else ""
        first = next((t for t in case.trials if not t.passed), None)
        if first is None:
            why = ""
        elif first.error:
            why = f'<pre class="error">error: {e(first.error)}</pre>'
        else:
            items = "".join(f"<li>{e(line)}</li>" for line in case.failures)
            why = f'<ul class="failures">{items}</ul>' if items else ""
        if first is not None and total > 1:
            which = case.trials.index(first) + 1
            why = f'<span class="muted">trial {which} of {total}:</span>{why}'
        description = f'<span class="key">{e(case.description)}</span>' if case.description else ""
        row_class = "" if case.passed else f' class="failed" id="{e(_case_anchor(anchor, case))}"'
        rows.append(
            f"<tr{row_class}>"
            f"<td>{e(case.name)}{description}</td>"
            f"<td>{_mark(case.passed)}</td>"
            f'<td class="num">{good}/{total}{planned}</td>'
            f"<td>{why}</td></tr>"
        )
    return (
        f'<p class="muted">{e(passed(cases))} passed; a case passes only when all its '
        f"trials do (pass^{e(trials)}). Failures first.</p>"
        '<table class="cases"><thead><tr><th>Case</th><th>Result</th>'
        '<th class="num nowrap">Trials passed</th>'
        f"<th>What failed</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _histogram(latencies: list[float]) -> str:
    values = [v for v in latencies if math.isfinite(v)]
    if not values:
        return ""
    width, height = 680, 230
    left, right, top, bottom = 48, 20, 28, 44
    plot_w, plot_h = width - left - right, height - top - bottom
    low, high = min(values), max(values)
    if high == low:
        low, high = low - 0.5, high + 0.5
    step = (high - low) / BINS
    counts = [0] * BINS
    for v in values:
        counts[min(int((v - low) / step), BINS - 1)] += 1
    peak = max(counts)

    def x(v: float) -> float:
        return left + (v - low) / (high - low) * plot_w

    def y(count: float) -> float:
        return top + plot_h - count / peak * plot_h

    out = [
        f'<svg class="histogram" viewBox="0 0 {width} {height}" width="{width}" height="{height}"'
        ' role="img" aria-label="histogram of time to card">',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" '
        'stroke="#9aa1ad"/>',
        f'<line x1="{left}" y1="{top}" x2="{left}" y2="{top + plot_h}" stroke="#9aa1ad"/>',
    ]
    bin_w = plot_w / BINS
    for i, count in enumerate(counts):
        if count:
            out.append(
                f'<rect class="bin" x="{_px(left + i * bin_w + 1)}" y="{_px(y(count))}" '
                f'width="{_px(bin_w - 2)}" height="{_px(top + plot_h - y(count))}" '
                f'fill="{NEUTRAL}"><title>{e(fmt_number(low + i * step))}–'
                f"{e(fmt_number(low + (i + 1) * step))} ms: {count}</title></rect>"
            )
    for i in range(5):
        v = low + (high - low) * i / 4
        anchor = "start" if i == 0 else "end" if i == 4 else "middle"
        out.append(
            f'<text x="{_px(x(v))}" y="{top + plot_h + 15}" text-anchor="{anchor}" '
            f'font-size="11" fill="#4b5363">{e(fmt_number(round(v)))}</text>'
        )
    out.append(
        f'<text x="{left + plot_w / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="11.5" '
        'fill="#4b5363">time to card (ms)</text>'
    )
    for count in sorted({0, peak, peak // 2} if peak > 1 else {0, peak}):
        out.append(
            f'<text x="{left - 6}" y="{_px(y(count) + 4)}" text-anchor="end" font-size="11" '
            f'fill="#4b5363">{count}</text>'
        )
    out.append(
        f'<text x="12" y="{top + plot_h / 2:.1f}" font-size="11.5" fill="#4b5363" '
        f'text-anchor="middle" transform="rotate(-90 12 {top + plot_h / 2:.1f})">events</text>'
    )
    p50, p95 = percentile(values, 50), percentile(values, 95)
    for name, v, colour, anchor, dx in (
        ("p50", p50, "#1d2330", "end", -4),
        ("p95", p95, FAIL, "start", 4),
    ):
        px = _px(x(v))
        out.append(
            f'<line class="{name}" x1="{px}" y1="{top - 6}" x2="{px}" y2="{top + plot_h}" '
            f'stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 3"/>'
            f'<text x="{_px(x(v) + dx)}" y="{top - 10}" text-anchor="{anchor}" font-size="11.5" '
            f'font-weight="600" fill="{colour}">{name} {e(fmt_number(round(v)))} ms</text>'
        )
    out.append("</svg>")
    caption = (
        f"{len(values)} events · p50 {fmt_number(round(p50))} ms · "
        f"p95 {fmt_number(round(p95))} ms · max {fmt_number(round(max(values)))} ms"
    )
    return f"<figure>{''.join(out)}<figcaption>{e(caption)}</figcaption></figure>"
