"""The LLM path on one model and server beside the offline engine, on the same scenarios.

The model is, in order: the endpoint COPILOT_LLM_BASE_URL names; llama.cpp's server with
Qwen2.5-Coder-1.5B-Instruct when `make llm` has built them (started here on loopback); the
scripted model-like server otherwise, which says nothing about a real model's quality but shows
the path works. Each side is a whole `copilot eval run scenarios` run, saved as its report.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from evals import llama, report, runner
from evals.html import render
from evals.report import Run, Suite
from evals.thresholds import load_thresholds

Target = Literal["auto", "configured", "local", "fake"]
OUT = Path("var/bench/llm")
THRESHOLDS = Path(__file__).resolve().parents[1] / "thresholds.yaml"
# A small model on two cores takes tens of seconds a turn: a few short scenarios that between
# them ask for every card (identity, billing facts, an action, an offer, a refusal).
LOCAL_SCENARIOS = (
    "past-due-autopay",
    "chat-to-voice",
    "data-overage-offer-dismissed",
    "prompt-injection",
)
LOCAL_TIMEOUT_S = 240.0  # a model turn on CPU; the default 30 s is for hosted models


@dataclass(frozen=True)
class Side:
    label: str
    run: Run
    folder: Path

    @property
    def suite(self) -> Suite:
        return next(s for s in self.run.suites if s.name == "scenarios")


def pick(target: Target) -> Literal["configured", "local", "fake"]:
    if target != "auto":
        return target
    if os.environ.get("COPILOT_LLM_BASE_URL"):
        return "configured"
    return "local" if llama.missing() is None else "fake"


def _set(values: dict[str, str | None]) -> None:
    for k, v in values.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@contextlib.contextmanager
def _env(values: dict[str, str | None]) -> Iterator[None]:
    """These variables for the run (None: unset), as they were after it."""
    saved = {k: os.environ.get(k) for k in values}
    try:
        _set(values)
        yield
    finally:
        _set(saved)


@contextlib.contextmanager
def endpoint(target: Literal["configured", "local", "fake"]) -> Iterator[str]:
    """The environment the llm run sees while it runs; yields its label."""
    if target == "configured":
        url = os.environ.get("COPILOT_LLM_BASE_URL")
        if not url:
            raise FileNotFoundError("--model configured needs COPILOT_LLM_BASE_URL")
        yield f"{os.environ.get('COPILOT_LLM_MODEL', 'default')} at {url}"
    elif target == "local":
        why = llama.missing()
        if why is not None:
            raise FileNotFoundError(why)
        with llama.serve() as url:
            timeout = os.environ.get("COPILOT_LLM_TIMEOUT_S", str(LOCAL_TIMEOUT_S))
            values: dict[str, str | None] = {
                "COPILOT_LLM_BASE_URL": url,
                "COPILOT_LLM_MODEL": llama.MODEL_NAME,
                "COPILOT_LLM_TIMEOUT_S": timeout,
            }
            with _env(values):
                yield f"{llama.MODEL} on llama.cpp llama-server (loopback)"
    else:
        with _env({"COPILOT_LLM_BASE_URL": None}):
            yield "the scripted model-like server (not a model: the path, not its quality)"


def run(
    target: Target,
    only: list[str] | None,
    out: Path = OUT,
    tick: Callable[[str], None] | None = None,
) -> tuple[Side, Side]:
    """Offline first, then the model, on the same scenarios; both reports written."""
    chosen = pick(target)
    if only is None and chosen == "local":
        only = list(LOCAL_SCENARIOS)
    rules = load_thresholds(THRESHOLDS)
    sides: list[Side] = []
    offline = runner.run(["scenarios"], engine="offline", only=only, tick=tick)
    with endpoint(chosen) as label:
        model = runner.run(["scenarios"], engine="llm", only=only, tick=tick)
    for name, got, shown in (("offline", offline, "offline engine"), ("llm", model, label)):
        folder = out / name
        report.save(got, folder, render(got, rules))
        sides.append(Side(shown, got, folder))
    return sides[0], sides[1]


Row = tuple[str, str, str]


def _value(suite: Suite, key: str, unit: str = "") -> str:
    metric = suite.metric(key)
    if metric is None or metric.value is None:
        return "-"
    v = metric.value
    shown = f"{v:.0%}" if unit == "%" else f"{v:,.2f}".rstrip("0").rstrip(".")
    return shown + (f" {unit}" if unit and unit != "%" else "")


def rows(offline: Side, model: Side) -> list[Row]:
    """Figure, offline, model: the same scenarios' figures as one table."""
    a, b = offline.suite, model.suite
    out: list[Row] = [
        ("scenarios", a.message, b.message),
        ("scenarios passing", _value(a, "pass_at_1", "%"), _value(b, "pass_at_1", "%")),
        (
            "time to card p95 (fast path)",
            _value(a, "time_to_card_p95", "ms"),
            _value(b, "time_to_card_p95", "ms"),
        ),
        ("model turns", "0", _value(b, "llm_turns")),
        ("fell back to offline cards", "-", _value(b, "llm_fallback_rate", "%")),
        ("cards the policy rejected", "-", _value(b, "llm_policy_rejections")),
        ("seconds per model turn p50", "-", _value(b, "llm_turn_seconds_p50", "s")),
        ("seconds per model turn p95", "-", _value(b, "llm_turn_seconds_p95", "s")),
        ("tokens per conversation", "0", _value(b, "llm_tokens_per_conversation")),
        ("suite wall time", f"{a.seconds:,.0f} s", f"{b.seconds:,.0f} s"),
    ]
    for m in b.metrics:
        if m.key.startswith("llm_rejected_") and m.value:
            out.append(
                (f"  rejected: {m.label.removeprefix('policy rejections: ')}", "-", f"{m.value:g}")
            )
    return out
