"""The scenario suite: every YAML scenario through the engine, K trials each, scored."""

from __future__ import annotations

import asyncio
import re
import statistics
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from copilot import scenario as scenarios
from copilot.card_models import (
    LlmNoted,
    MoodData,
    NextBestActionData,
    OfferData,
    SummaryData,
    data_of,
    parse,
)
from copilot.engine import Engine
from copilot.pii import RedactionPolicy, redact, unmasked
from copilot.systems import with_outage
from evals.bench.foundation import percentile
from evals.judge import Judge
from evals.quiet_ragas import prepare
from evals.report import Case, Metric, Suite, Trial
from tools.base import Systems
from tools.errors import CopilotError

FOLDER = Path(__file__).resolve().parents[1] / "scenarios"
Progress = Callable[[str], None]


@dataclass
class Tally:
    """Counts across the suite, turned into metrics at the end."""

    intent: list[bool] = field(default_factory=list)
    mood: list[bool] = field(default_factory=list)
    next_action: list[bool] = field(default_factory=list)
    offer_tp: int = 0
    offer_fp: int = 0
    offer_fn: int = 0
    offers_to_upset: int = 0
    must_mention: list[bool] = field(default_factory=list)
    never_mention: int = 0
    pii_leaks: list[str] = field(default_factory=list)
    tool_accuracy: list[float] = field(default_factory=list)
    tool_f1: list[float] = field(default_factory=list)
    context_recall: list[float] = field(default_factory=list)
    context_precision: list[float] = field(default_factory=list)
    llm_turns: int = 0
    llm_fallbacks: int = 0
    llm_rejections: int = 0
    llm_rejected_by: Counter[str] = field(default_factory=Counter)
    llm_rejected_example: dict[str, str] = field(default_factory=dict)  # kind -> one in full
    llm_tokens: list[float] = field(default_factory=list)
    llm_seconds: list[float] = field(default_factory=list)


_SPECIFIC = re.compile(r"'[^']*'|\"[^\"]*\"|\$?\b[A-Z]{0,4}\d+(?:[.,]\d+)*[\w-]*")


def rejection_kind(reason: str) -> str:
    """A policy reason without what is particular to one turn (quotes, amounts, ids), so the
    same rule's rejections count together: "reply says … before anything shows it is done"."""
    return " ".join(_SPECIFIC.sub("…", reason).split())[:120]


def request_leaks(requests: list[dict[str, Any]]) -> Metric:
    """Unmasked PII (cards, national ids, bank accounts, secrets, contacts) sent to a model."""
    policy = RedactionPolicy(mask_emails=True, mask_phones=True)
    found = 0
    for body in requests:
        for message in body.get("messages", []):
            text = str(message.get("content") or "")
            found += len(unmasked(text, policy))
    return Metric(
        key="pii_in_model_requests",
        label="unmasked PII in requests to the model",
        value=found,
        unit="count",
        better="lower",
        note=f"{len(requests)} requests scanned",
    )


def _llm_figures(tally: Tally, replay: scenarios.Replay, scenario: str) -> None:
    """What the slow path did in one conversation: turns, fallbacks, policy rejections, tokens."""
    for update in replay.updates:
        if update.source != "llm":
            continue
        tally.llm_turns += 1
        tally.llm_seconds.append(update.latency_ms / 1000)
        noted = [d for d in (parse(c).data for c in update.cards) if isinstance(d, LlmNoted)]
        summary = next((d for d in noted if isinstance(d, SummaryData)), None)
        if summary is not None and summary.llm is not None and summary.llm.status == "fallback":
            tally.llm_fallbacks += 1
        rejected = [d.llm.reason or "" for d in noted if d.llm and d.llm.status == "rejected"]
        tally.llm_rejections += len(rejected)
        for reason in rejected:
            kind = rejection_kind(reason)
            tally.llm_rejected_by[kind] += 1
            tally.llm_rejected_example.setdefault(kind, f"{scenario}: {reason}")
    final = data_of(replay.cards.get("summary"), SummaryData)
    if final is not None and final.usage is not None:
        spent = final.usage.conversation
        tally.llm_tokens.append(float(spent.prompt_tokens + spent.completion_tokens))


def _offers_to_upset(replay: scenarios.Replay) -> int:
    """Offers that appeared while the customer's mood, as the panel showed it, was upset."""
    upset = 0
    mood: MoodData | None = None
    for update in replay.updates:
        for card in update.cards:
            if card.type == "mood":
                mood = data_of(card, MoodData) or mood
        for card in update.cards:
            offer = data_of(card, OfferData) if card.type == "offer" else None
            if offer is not None and offer.offer is not None and mood is not None:
                upset += mood.current.label == "negative" or mood.alert
    return upset


async def _ragas(tally: Tally, scenario: scenarios.Scenario, replay: scenarios.Replay) -> None:
    prepare()
    from ragas.dataset_schema import SingleTurnSample
    from ragas.messages import AIMessage, HumanMessage, ToolCall

    with warnings.catch_warnings():  # ID-based context metrics live only in the older module
        warnings.simplefilter("ignore", DeprecationWarning)
        from ragas.metrics import IDBasedContextPrecision, IDBasedContextRecall
    from ragas.metrics.collections import ToolCallAccuracy, ToolCallF1

    e = scenario.expect
    cards = replay.cards
    if e.tool_calls:
        made = list(dict.fromkeys(s.split(":")[0] for s in scenarios.tool_sources(cards)))
        expected = [c for c in made if any(c.startswith(p) for p in e.tool_calls)]
        # Ragas compares in order: the expected calls in the order they were made, then misses.
        expected += [p for p in e.tool_calls if not any(c.startswith(p) for c in made)]
        said = [HumanMessage(content=t.text) for t in scenario.turns if t.speaker == "customer"]
        reference = [ToolCall(name=c, args={}) for c in expected]

        def said_then(calls: list[str]) -> list[Any]:
            return [
                *said[:1],
                AIMessage(content="", tool_calls=[ToolCall(name=c, args={}) for c in calls]),
            ]

        with warnings.catch_warnings():  # no call made at all scores 0; ragas also warns
            warnings.filterwarnings("ignore", "No tool calls found", UserWarning)
            # Accuracy: were the expected calls made, in order (other fan-out calls are fine).
            kept = [c for c in made if c in expected]
            got = await ToolCallAccuracy().ascore(
                user_input=said_then(kept), reference_tool_calls=reference
            )
            tally.tool_accuracy.append(float(got.value))
            # F1 over every call made: extra fan-out calls count against precision.
            got = await ToolCallF1().ascore(
                user_input=said_then(made), reference_tool_calls=reference
            )
            tally.tool_f1.append(float(got.value))
    if e.knowledge_article:
        sample = SingleTurnSample(
            retrieved_context_ids=scenarios.cited(cards) or ["(none)"],
            reference_context_ids=[e.knowledge_article],
        )
        tally.context_recall.append(float(await IDBasedContextRecall().single_turn_ascore(sample)))
        tally.context_precision.append(
            float(await IDBasedContextPrecision().single_turn_ascore(sample))
        )


def score(tally: Tally, scenario: scenarios.Scenario, replay: scenarios.Replay) -> None:
    """Add one replay's outcomes to the suite's counts (the first trial of each case)."""
    e = scenario.expect
    cards = replay.cards
    if e.intent:
        tally.intent.append(scenarios.topic(cards) == e.intent)
    if e.mood:
        tally.mood.append(scenarios.mood_label(cards) == e.mood)
    for i, turn in enumerate(scenario.turns):
        if turn.expect_next_action is not None:
            step = scenarios.next_step(replay.after_turn.get(i, {}))
            tally.next_action.append(step == turn.expect_next_action)
    shown = scenarios.offers_shown(replay)
    tally.offers_to_upset += _offers_to_upset(replay)
    if e.offer == "none":
        tally.offer_fp += len(set(shown))
    elif e.offer:
        tally.offer_tp += e.offer in shown
        tally.offer_fn += e.offer not in shown
        tally.offer_fp += len(set(shown) - {e.offer})
    summary = scenarios.summary_text(cards)
    tally.must_mention += [fact.lower() in summary for fact in e.summary_must_carry]
    transcript = replay.transcript
    tally.never_mention += sum(1 for s in e.never if s in transcript)
    for finding in redact(transcript).findings:
        span = transcript[finding.start : finding.end]
        if "[" in span and "]" in span:  # "the PIN is [secret]": already masked, not a leak
            continue
        tally.pii_leaks.append(f"{scenario.name}: {finding.kind} {finding.masked}")
    asyncio.run(_ragas(tally, scenario, replay))


def _rate(flags: list[bool]) -> float | None:
    return sum(flags) / len(flags) if flags else None


def _mean(values: list[float]) -> float | None:
    return statistics.fmean(values) if values else None


def metrics(tally: Tally, cases: list[Case], latencies: list[float]) -> list[Metric]:
    tp, fp, fn = tally.offer_tp, tally.offer_fp, tally.offer_fn
    first = [c.trials[0].passed for c in cases if c.trials]
    out = [
        Metric(
            key="pass_rate",
            label="scenarios passing, pass^k",
            value=_rate([c.passed for c in cases]),
        ),
        Metric(key="pass_at_1", label="scenarios passing, first trial", value=_rate(first)),
        Metric(
            key="intent_accuracy",
            label="intent (topic) accuracy",
            value=_rate(tally.intent),
            note=f"{len(tally.intent)} scenarios",
        ),
        Metric(
            key="mood_accuracy",
            label="mood accuracy",
            value=_rate(tally.mood),
            note=f"{len(tally.mood)} scenarios",
        ),
        Metric(
            key="next_action_accuracy",
            label="next-best-action accuracy",
            value=_rate(tally.next_action),
            note=f"{len(tally.next_action)} turns",
        ),
        Metric(
            key="offer_precision",
            label="offer precision",
            value=tp / (tp + fp) if tp + fp else None,
            note=f"tp {tp}, fp {fp}",
        ),
        Metric(
            key="offer_recall",
            label="offer recall",
            value=tp / (tp + fn) if tp + fn else None,
            note=f"tp {tp}, fn {fn}",
        ),
        Metric(
            key="offers_to_upset_customers",
            label="offers shown to an upset customer",
            value=float(tally.offers_to_upset),
            better="lower",
            note="must be 0",
        ),
        Metric(
            key="summary_must_mention",
            label="summary carries the facts it must",
            value=_rate(tally.must_mention),
            note=f"{len(tally.must_mention)} facts",
        ),
        Metric(
            key="never_mention_violations",
            label="never-mention strings that appeared",
            value=float(tally.never_mention),
            better="lower",
        ),
        Metric(
            key="pii_leaks",
            label="unmasked PII in any output",
            value=float(len(tally.pii_leaks)),
            better="lower",
            note="; ".join(tally.pii_leaks[:5]),
        ),
        Metric(
            key="tool_call_accuracy",
            label="ToolCallAccuracy (expected calls, in order)",
            value=_mean(tally.tool_accuracy),
            source="ragas",
            note=f"{len(tally.tool_accuracy)} scenarios",
        ),
        Metric(
            key="tool_call_f1",
            label="ToolCallF1 (every call made)",
            value=_mean(tally.tool_f1),
            source="ragas",
            note="the fan-out's other calls count against precision",
        ),
        Metric(
            key="context_recall",
            label="IDBasedContextRecall (citations)",
            value=_mean(tally.context_recall),
            source="ragas",
        ),
        Metric(
            key="context_precision",
            label="IDBasedContextPrecision (citations)",
            value=_mean(tally.context_precision),
            source="ragas",
        ),
        Metric(
            key="time_to_card_p50",
            label="time to card per event p50",
            value=statistics.median(latencies) if latencies else None,
            unit="ms",
            better="lower",
        ),
        Metric(
            key="time_to_card_p95",
            label="time to card per event p95",
            value=percentile(latencies, 95) if latencies else None,
            unit="ms",
            better="lower",
        ),
    ]
    if tally.llm_turns:
        out += [
            Metric(key="llm_turns", label="model turns", value=tally.llm_turns, unit="count"),
            Metric(
                key="llm_fallback_rate",
                label="model turns that fell back to the offline cards",
                value=tally.llm_fallbacks / tally.llm_turns,
                better="lower",
            ),
            Metric(
                key="llm_policy_rejections",
                label="cards whose model text policy rejected",
                value=tally.llm_rejections,
                unit="count",
                better="lower",
            ),
            *(
                Metric(
                    key=f"llm_rejected_{n}",
                    label=f"policy rejections: {kind}",
                    value=count,
                    unit="count",
                    better="lower",
                    note=f"for example {tally.llm_rejected_example[kind]}"[:400],
                )
                for n, (kind, count) in enumerate(tally.llm_rejected_by.most_common(10), 1)
            ),
            *(
                Metric(
                    key=f"llm_turn_seconds_p{pct}",
                    label=f"seconds per model turn p{pct}",
                    value=percentile(tally.llm_seconds, pct),
                    unit="s",
                    better="lower",
                )
                for pct in (50, 95)
            ),
            Metric(
                key="llm_tokens_per_conversation",
                label="model tokens per conversation, mean",
                value=_mean(tally.llm_tokens),
                unit="tokens",
                better="lower",
            ),
        ]
    return out


def _judge(judge: Judge, scenario: scenarios.Scenario, replay: scenarios.Replay) -> None:
    cards = replay.cards
    turns = [f"{t.speaker}: {t.text}" for t in scenario.turns if t.text]
    question = next((t.text for t in scenario.turns if t.speaker == "customer"), "")
    written = data_of(cards.get("summary"), SummaryData)
    summary = written.prose if written else ""
    nba = data_of(cards.get("next_best_action"), NextBestActionData)
    suggestion = None
    if nba is not None and nba.reason:
        title = nba.next.title if nba.next else "nothing left to do"
        suggestion = f"{title}: {nba.reason}"
    offer = data_of(cards.get("offer"), OfferData)
    made = offer.offer if offer else None
    shown = (
        f"{made.title}: {made.why}"
        if made
        else f"no offer ({offer.held_back if offer else 'none'})"
    )
    asyncio.run(judge.conversation(turns, question, summary, suggestion, shown))


def run(
    engine: Engine,
    files: list[Path],
    trials: int = 1,
    progress: Progress | None = None,
    judge: Judge | None = None,
    fresh: Callable[[], Systems] | None = None,
) -> Suite:
    """Every file, `trials` times; a bad file or a crash fails its case and the run goes on.

    fresh: a new copy of the systems for a scenario whose approvals write to them, so no
    scenario sees another's changes (and the eval data stays as generated).
    """
    started = time.perf_counter()
    base: Systems = engine.deps.systems
    tally = Tally()
    cases: list[Case] = []
    latencies: list[float] = []
    for path in files:
        try:
            scenario = scenarios.load(path)
        except CopilotError as exc:
            cases.append(
                Case(name=path.stem, passed=False, trials=[Trial(passed=False, error=exc.message)])
            )
            if progress:
                progress(path.stem)
            continue
        runs: list[Trial] = []
        for k in range(trials):
            world = fresh() if scenario.writes and fresh is not None else base
            engine.deps.systems = with_outage(world, list(scenario.unavailable))
            try:
                replay = asyncio.run(scenarios.play(engine, scenario, f"eval-{scenario.name}-{k}"))
                failures = scenarios.check(scenario, replay)
                if k == 0:
                    score(tally, scenario, replay)
                    if judge is not None:
                        _judge(judge, scenario, replay)
            except Exception as exc:
                runs.append(Trial(passed=False, error=f"{type(exc).__name__}: {exc}"))
                continue
            finally:
                engine.deps.systems = base
                if world is not base:
                    asyncio.run(world.aclose())  # the private copy's connections
            times = [u.latency_ms for u in replay.updates if u.source == "fast"]
            if k == 0:
                _llm_figures(tally, replay, scenario.name)
            latencies += times
            runs.append(Trial(passed=not failures, failures=failures, latencies_ms=times))
        cases.append(
            Case(
                name=scenario.name,
                description=scenario.description,
                passed=all(t.passed for t in runs),
                trials=runs,
            )
        )
        if progress:
            progress(scenario.name)
    return Suite(
        name="scenarios",
        status="ran",
        message=f"{len(cases)} scenarios x {trials} trials",
        seconds=round(time.perf_counter() - started, 2),
        metrics=metrics(tally, cases, latencies) + (judge.metrics() if judge else []),
        cases=cases,
        latencies_ms=[round(x, 2) for x in latencies],
    )


def files(folder: Path = FOLDER) -> list[Path]:
    return sorted(folder.glob("*.yaml"))


def scratch() -> Path:
    return Path(tempfile.mkdtemp(prefix="eval-"))
