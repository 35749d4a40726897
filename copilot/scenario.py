"""Scenario files: a conversation and what a QA team expects the panel to show along the way."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from copilot.card_models import (
    ActionData,
    AlertData,
    CustomerData,
    CustomerPendingData,
    IntentData,
    KnowledgeData,
    MoodData,
    NextBestActionData,
    OfferData,
    SummaryData,
    data_of,
    parse,
)
from copilot.events import Channel, Event, EventType, Speaker
from copilot.panel import Card, PanelUpdate
from copilot.payments import SecureForm, from_secure_form
from copilot.yamlfile import located
from tools.errors import CopilotError, InvalidInput


class ScenarioTurn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    speaker: Speaker = "customer"
    text: str = Field("", max_length=10_000)
    channel: Channel | None = Field(None, description="defaults to the scenario's channel")
    type: EventType = "utterance"
    delay_s: float = Field(5.0, ge=0, le=86_400, description="seconds after the previous turn")
    data: dict[str, Any] = Field(default_factory=dict)
    approve: str | None = Field(
        None,
        description="not an event: the agent approves the proposed action of this kind, which "
        "then runs against the systems (the scenario's world is a copy of the data)",
    )
    secure_form: SecureForm | None = Field(
        None,
        description="with type metadata: the customer enters a new card in the secure payment "
        "form; billing registers it and the session receives its token as payment_method",
    )
    expect_next_action: str | None = Field(
        None, description="playbook step id suggested after this turn, or 'none'"
    )


class Expectations(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str | None = Field(None, description="who the panel must identify")
    identity: Literal["matched", "ambiguous", "not_found"] | None = None
    intent: str | None = Field(None, description="the conversation's topic (its playbook intent)")
    mood: Literal["negative", "neutral", "positive"] | None = None
    escalation_alert: bool | None = None
    knowledge_article: str | None = Field(None, description="article id the knowledge card cites")
    offer: str | None = Field(None, description="offer id, or 'none' when no offer may appear")
    escalation_step: str | None = Field(
        None, description="escalation step suggested beside the next action at the end"
    )
    offer_final: str | None = Field(
        None, description="offer id on the panel at the end, or 'none' (e.g. after a dismissal)"
    )
    degraded: list[str] = Field(
        default_factory=list, description="systems the customer card must report unavailable"
    )
    tool_calls: list[str] = Field(
        default_factory=list, description="system.operation calls the panel must rest on"
    )
    summary_must_carry: list[str] = Field(default_factory=list)
    never: list[str] = Field(default_factory=list, description="strings no update may contain")
    standing: Literal["verified", "identified, not verified", "unknown"] | None = Field(
        None, description="who the customer card says this is at the end"
    )
    resolved: bool | None = Field(None, description="the summary's resolution at the end")
    alerts: list[str] = Field(
        default_factory=list, description="alert card ids that must appear (e.g. alert:foreign)"
    )
    proposed: list[str] = Field(
        default_factory=list, description="write action kinds that must be proposed"
    )


class Scenario(BaseModel):
    """One conversation with its expectations; see evals/scenarios/schema.json."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    description: str = ""
    tenant: str = "brightwave"
    channel: Channel = "chat"
    metadata: dict[str, Any] = Field(default_factory=dict, description="channel metadata")
    starts: str | None = Field(
        None,
        pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$",
        description="HH:MM UTC on the data's day (today): for stories that follow records "
        "made earlier today; else a fixed morning",
    )
    unavailable: list[Literal["crm", "billing", "orders"]] = Field(
        default_factory=list, description="systems that are down for the whole conversation"
    )
    turns: list[ScenarioTurn] = Field(min_length=1, max_length=500)
    expect: Expectations = Field(default_factory=Expectations)

    @property
    def writes(self) -> bool:
        """Some turn changes the systems (an approval, the secure form): play it on a copy."""
        return any(t.approve or t.secure_form is not None for t in self.turns)


def load(path: Path) -> Scenario:
    """Read and validate a scenario file; every problem names the file, the line and the field."""
    raw, where = located(path, "scenario")
    try:
        return Scenario.model_validate(raw)
    except ValidationError as exc:
        problems = []
        for e in exc.errors():
            loc = tuple(e["loc"])
            line = where.line(loc)
            at = f"line {line}: " if line else ""
            problems.append(f"{at}{'.'.join(str(p) for p in loc)}: {e['msg']}")
        raise InvalidInput("scenario", f"{path}: {'; '.join(problems)}") from None
    except InvalidInput as exc:  # a model that refuses by name, e.g. card data in secure_form
        raise InvalidInput("scenario", f"{path}: {exc.message}") from None


START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def _start(scenario: Scenario, start: datetime | None) -> datetime:
    if start is not None:
        return start
    if scenario.starts is not None:
        hh, mm = (int(p) for p in scenario.starts.split(":"))
        return datetime.combine(datetime.now(UTC).date(), time(hh, mm), tzinfo=UTC)
    return START


def times(scenario: Scenario, start: datetime | None = None) -> list[datetime]:
    """When each turn happens: every delay after the one before."""
    ts, out = _start(scenario, start), []
    for turn in scenario.turns:
        ts = ts + timedelta(seconds=turn.delay_s)
        out.append(ts)
    return out


def events(scenario: Scenario, session_id: str, start: datetime | None = None) -> list[Event]:
    """The scenario as the events a channel would send, metadata first (approvals are not)."""
    out = []
    if scenario.metadata:
        out.append(
            Event(
                event_id=f"{session_id}-meta",
                session_id=session_id,
                type="metadata",
                speaker="system",
                channel=scenario.channel,
                ts=_start(scenario, start),
                data=scenario.metadata,
            )
        )
    for i, (turn, ts) in enumerate(zip(scenario.turns, times(scenario, start), strict=True)):
        if turn.approve:
            continue
        out.append(
            Event(
                event_id=f"{session_id}-{i}",
                session_id=session_id,
                type=turn.type,
                speaker=turn.speaker,
                channel=turn.channel or scenario.channel,
                text=turn.text,
                ts=ts,
                data=turn.data,
            )
        )
    return out


@dataclass
class Replay:
    """What the agent saw: every update, the final panel and the panel after each turn."""

    updates: list[PanelUpdate] = field(default_factory=list)
    cards: dict[str, Card] = field(default_factory=dict)
    after_turn: dict[int, dict[str, Card]] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)  # turns the engine could not play

    @property
    def transcript(self) -> str:
        return "\n".join(u.model_dump_json() for u in self.updates)


class Handler(Protocol):
    async def handle(self, event: Event) -> PanelUpdate | None: ...


async def _approve(engine: Any, session_id: str, kind: str, at: datetime) -> PanelUpdate | str:
    """The agent clicks Approve on the proposed action of this kind; a string says why not."""
    live = engine.live(session_id) if hasattr(engine, "live") else None
    waiting = [p for p in (live.state.proposals.values() if live else []) if p.status == "proposed"]
    chosen = next((p for p in waiting if p.kind == kind), None)
    if chosen is None:
        shown = ", ".join(p.kind for p in waiting) or "nothing"
        return f"no proposed {kind} to approve (proposed: {shown})"
    update: PanelUpdate | None = await engine.decide(
        session_id, chosen.action_id, True, "scenario-agent", at=at
    )
    return update if update is not None else f"approving {kind} changed nothing"


async def play(
    engine: Handler,
    scenario: Scenario,
    session_id: str,
    on_update: Callable[[Event, PanelUpdate], None] | None = None,
) -> Replay:
    """Send the scenario's events through the engine, keeping the panel after each turn."""
    replay = Replay()
    settle = getattr(engine, "settle", None)
    subscribe = getattr(engine, "subscribe", None)
    current: list[Event] = []

    def take(event: Event, update: PanelUpdate) -> None:
        replay.updates.append(update)
        replay.cards.update({c.id: c for c in update.cards})
        if on_update is not None:
            on_update(event, update)

    async def slow(item: object) -> None:
        # The slow path's updates arrive by subscription, after the event's own update.
        if isinstance(item, PanelUpdate) and item.source == "llm" and item.session_id == session_id:
            take(current[-1], item)

    unsubscribe = subscribe(slow) if subscribe is not None else None
    sent = {e.event_id: e for e in events(scenario, session_id)}
    when = times(scenario)
    try:
        steps: list[tuple[int, ScenarioTurn | None]] = [(-1, None)]
        steps += list(enumerate(scenario.turns))
        for i, turn in steps:
            event = sent.get(f"{session_id}-{i}" if i >= 0 else f"{session_id}-meta")
            outcome: Event | PanelUpdate | str | None = event
            if turn is not None and turn.approve:
                event = Event(
                    event_id=f"{session_id}-{i}",
                    session_id=session_id,
                    type="action_result",
                    speaker="system",
                    channel=scenario.channel,
                    ts=when[i],
                )
                current.append(event)
                outcome = await _approve(engine, session_id, turn.approve, when[i])
            elif event is not None and turn is not None and turn.secure_form is not None:
                current.append(event)
                try:
                    _, outcome = await from_secure_form(
                        engine,  # type: ignore[arg-type]
                        session_id,
                        turn.secure_form,
                        event.event_id,
                        event.ts,
                    )
                except CopilotError as exc:
                    outcome = f"secure form: {exc.message}"
            if event is None:
                continue
            if isinstance(outcome, str):
                replay.problems.append(f"turn {i + 1}: {outcome}")
                outcome = None
            if isinstance(outcome, Event):
                event = outcome
                current.append(event)
                outcome = await engine.handle(event)
            if isinstance(outcome, PanelUpdate):
                take(event, outcome)
            if settle is not None:
                await settle(session_id)  # each turn sees the model's answer before the next
            _snapshot(replay, event, session_id)
    finally:
        if unsubscribe is not None:
            unsubscribe()
    return replay


def _snapshot(replay: Replay, event: Event, session_id: str) -> None:
    turn = event.event_id.removeprefix(f"{session_id}-")
    if turn.isdigit():
        replay.after_turn[int(turn)] = dict(replay.cards)


# What a panel shows, read the same way by `check` and by the eval suite's metrics.


def next_step(cards: dict[str, Card]) -> str:
    """The suggested playbook step id, or "none"."""
    nba = data_of(cards.get("next_best_action"), NextBestActionData)
    return nba.next.step if nba and nba.next else "none"


def topic(cards: dict[str, Card]) -> str | None:
    """The conversation's topic (its playbook intent), else the last line's intent."""
    intent = data_of(cards.get("intent"), IntentData)
    return (intent.topic or intent.intent) if intent else None


def mood_label(cards: dict[str, Card]) -> str | None:
    mood = data_of(cards.get("mood"), MoodData)
    return mood.current.label if mood else None


def cited(cards: dict[str, Card]) -> list[str]:
    """Article ids the knowledge card cites, best first."""
    knowledge = data_of(cards.get("knowledge"), KnowledgeData)
    return [h.citation.article_id for h in knowledge.hits] if knowledge else []


def summary_text(cards: dict[str, Card]) -> str:
    """Every field of the summary card as one lower-case text, for facts it must carry."""
    summary = data_of(cards.get("summary"), SummaryData)
    return summary.model_dump_json().lower() if summary else ""


def tool_sources(cards: dict[str, Card]) -> list[str]:
    """The system calls the customer card rests on, as system.operation:outcome."""
    who = parse(cards["customer"]).data if "customer" in cards else None
    return who.sources if isinstance(who, CustomerData | CustomerPendingData) else []


def offers_shown(replay: Replay) -> list[str]:
    """Every offer id that appeared in an update, in order."""
    shown = [data_of(c, OfferData) for u in replay.updates for c in u.cards if c.type == "offer"]
    return [o.offer.offer_id for o in shown if o and o.offer]


def check(scenario: Scenario, replay: Replay) -> list[str]:
    """The expectations the replay does not meet, each as one readable line."""
    e = scenario.expect
    cards, transcript = replay.cards, replay.transcript
    failures: list[str] = list(replay.problems)
    for i, turn in enumerate(scenario.turns):
        if turn.expect_next_action is not None:
            got = next_step(replay.after_turn.get(i, {}))
            if got != turn.expect_next_action:
                failures.append(
                    f"turn {i + 1}: next action expected {turn.expect_next_action}, got {got}"
                )
    offered = offers_shown(replay)
    if e.offer == "none" and offered:
        failures.append(f"offer: expected none, {offered[0]} was shown")
    elif e.offer not in (None, "none") and e.offer not in offered:
        failures.append(f"offer: expected {e.offer}, shown {offered or 'nothing'}")
    nba = data_of(cards.get("next_best_action"), NextBestActionData)
    escalation = nba.escalation.step if nba and nba.escalation else None
    if e.escalation_step is not None and (escalation or "none") != e.escalation_step:
        failures.append(f"escalation: expected {e.escalation_step}, got {escalation}")
    final = data_of(cards.get("offer"), OfferData)
    final_id = final.offer.offer_id if final and final.offer else None
    if e.offer_final is not None and (final_id or "none") != e.offer_final:
        failures.append(f"offer at the end: expected {e.offer_final}, panel shows {final_id}")
    who = parse(cards["customer"]).data if "customer" in cards else None
    profile = who if isinstance(who, CustomerData) else None
    notes = " ".join(profile.degraded if profile else [])
    for system in e.degraded:
        if system not in notes:
            failures.append(f"degraded: expected {system} reported unavailable, got {notes!r}")
    sources = set(tool_sources(cards))
    for call in e.tool_calls:
        if not any(s.startswith(call) for s in sources):
            failures.append(f"tool calls: expected {call}, panel rests on {sorted(sources)}")
    shown_id = profile.customer_id if profile else None
    if e.customer_id and shown_id != e.customer_id:
        failures.append(f"customer: expected {e.customer_id}, panel shows {shown_id}")
    if e.identity:
        pending = who.resolution if isinstance(who, CustomerPendingData) else None
        shown = "matched" if profile else pending
        if shown != e.identity:
            failures.append(f"identity: expected {e.identity}, panel shows {shown}")
    about = topic(cards)
    if e.intent and about != e.intent:
        failures.append(f"intent: expected {e.intent}, the conversation's topic is {about}")
    label = mood_label(cards)
    if e.mood and label != e.mood:
        failures.append(f"mood: expected {e.mood}, got {label}")
    alert_on = data_of(cards.get("alert:escalation"), AlertData) is not None
    if e.escalation_alert is not None and alert_on != e.escalation_alert:
        failures.append(f"escalation alert: expected {e.escalation_alert}")
    top = cited(cards)[:3]
    if e.knowledge_article and e.knowledge_article not in top:
        failures.append(f"knowledge: expected {e.knowledge_article} in the top 3, got {top}")
    text = summary_text(cards)
    for fact in e.summary_must_carry:
        if fact.lower() not in text:
            failures.append(f"summary: missing {fact!r}")
    for forbidden in e.never:
        if forbidden in transcript:
            failures.append(f"never: {forbidden!r} appeared in an update")
    return failures + _truths(scenario, replay)


def _truths(scenario: Scenario, replay: Replay) -> list[str]:
    """What the panel claims about verification, resolution, alerts and proposed actions."""
    e, cards, out = scenario.expect, replay.cards, []
    customer = data_of(cards.get("customer"), CustomerData)
    standing = customer.standing if customer else "unknown"
    if e.standing is not None and standing != e.standing:
        out.append(f"standing: expected {e.standing!r}, customer card says {standing!r}")
    summary = data_of(cards.get("summary"), SummaryData)
    resolved = summary is not None and summary.resolution_state == "resolved"
    if e.resolved is not None and resolved != e.resolved:
        out.append(f"resolved: expected {e.resolved}, summary says {not e.resolved}")
    shown = [c for u in replay.updates for c in u.cards]
    seen = {c.id for c in shown if c.id.startswith("alert:") and data_of(c, AlertData)}
    for alert in e.alerts:
        if alert not in seen:
            out.append(f"alerts: expected {alert}, shown {sorted(seen)}")
    actions = [data_of(c, ActionData) for c in shown if c.type == "action"]
    kinds = {a.kind for a in actions if a}
    for kind in e.proposed:
        if kind not in kinds:
            out.append(f"proposed: expected {kind}, proposed {sorted(kinds)}")
    return out
