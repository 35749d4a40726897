"""A bot's handoff becomes a pre-filled human session: its events, its packet, where both are kept.

`events_for` turns the bot's request into the session's events (the transcript, then one metadata
event with what the bot knows); the engine reads them like any conversation, so the agent's panel
opens with identity, verification, intent, mood and the first step. `build_packet` then reads the
packet off the session's state. `HandoffStore` keeps packets so a retry or the agent's desktop gets
the same one back.
"""

from __future__ import annotations

import json
import threading
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Column, DateTime, Engine, MetaData, String, Table, Text, select
from sqlalchemy.exc import IntegrityError

from copilot import summary
from copilot.events import Event
from copilot.handoff import (
    Attempt,
    FirstStep,
    HandoffPacket,
    HandoffRequest,
    Identity,
    IntentReading,
    MoodTrend,
)
from copilot.pii import MASK, RedactionPolicy, redact
from copilot.session_state import SessionState
from copilot.storage import naive_utc, open_database
from tools.errors import NotFound

MAX_QUOTES = 3


def _clean(text: str, policy: RedactionPolicy) -> str:
    """What the bot collected is kept like the transcript is: with PII masked."""
    return redact(text, policy).text


def events_for(
    request: HandoffRequest, session_id: str, now: datetime, policy: RedactionPolicy | None = None
) -> list[Event]:
    """The session's events: each transcript line in order, then what the bot knows."""
    policy = policy or RedactionPolicy()
    lines = request.transcript
    out: list[Event] = []
    for i, line in enumerate(lines):
        # Lines without a time keep their order, a second apart, ending just before the handoff.
        ts = line.ts or now - timedelta(seconds=len(lines) - i)
        out.append(
            Event(
                event_id=f"{request.handoff_id}-t{i:03d}",
                session_id=session_id,
                type="utterance",
                speaker=line.speaker,
                channel=request.channel,
                text=line.text,
                ts=ts,  # the Event takes a time without a zone as UTC
                seq=i,
            )
        )
    data: dict[str, Any] = {
        "handoff_from": request.bot,
        "handoff_id": request.handoff_id,
        "from_channel": request.channel,
        "intent": request.intent,
        "details": {k: _clean(v, policy) for k, v in request.details.items()},
        "tried": [
            {**t.model_dump(), "outcome": _clean(t.outcome, policy) if t.outcome else None}
            for t in request.tried
        ],
        "open_questions": [_clean(q, policy) for q in request.open_questions],
    }
    if request.origin is not None:
        data["origin"] = request.origin.model_dump(mode="json")
    who = request.customer
    if who is not None:
        for key in ("customer_id", "phone", "email", "account"):
            value = getattr(who, key)
            if value:
                data[key] = value
    check = request.verification
    if check is not None:
        data.update(
            verified_by=check.method,
            verified_channel=check.channel,
            verified_at=check.at.isoformat(),
            verified_result=check.result,
        )
    out.append(
        Event(
            event_id=f"{request.handoff_id}-handoff",
            session_id=session_id,
            type="metadata",
            speaker="system",
            channel=request.to_channel or request.channel,
            ts=now,
            seq=len(lines),
            data=data,
        )
    )
    return out


def build_packet(
    request: HandoffRequest, state: SessionState, session_id: str, created_at: datetime
) -> HandoffPacket:
    """The packet, read off the human session after the engine took in the handoff."""
    intent = _intent(request, state)
    identity = _identity(state)
    mood = _mood(state)
    step = None
    progress = state.progress
    if progress is not None and progress.next is not None:
        nxt = progress.next
        step = FirstStep(step=nxt.id, title=nxt.title, say=nxt.say, why=progress.reason)
    facts = summary.structured(state)
    gaps = _gaps(request, state, identity, intent)
    # What the bot sent is read back from the session, as stored: with PII masked.
    handed = state.handoff or {}
    tried = [Attempt.model_validate(t) for t in handed.get("tried", [])]
    open_questions = [str(q) for q in handed.get("open_questions", [])]
    if identity.status != "matched":
        open_questions.append("who the customer is: the bot did not identify them")
    return HandoffPacket(
        handoff_id=request.handoff_id,
        session_id=session_id,
        created_at=created_at,
        bot=request.bot,
        from_channel=request.channel,
        to_channel=request.to_channel or request.channel,
        intent=intent,
        identity=identity,
        details=list(state.provided.values()),
        tried=tried,
        mood=mood,
        open_questions=open_questions,
        first_step=step,
        origin=request.origin,
        summary=summary.prose(facts, state),
        gaps=gaps,
    )


def _intent(request: HandoffRequest, state: SessionState) -> IntentReading | None:
    """The topic the panel works on, and whose reading it is: the copilot's model or the bot's."""
    model = getattr(state.intent, "intent", None)
    name = state.playbook_intent or model or request.intent
    if name is None:
        return None
    bot_said = request.intent if request.intent not in (None, name) else None
    if name == model:
        confidence = round(float(state.intent.confidence), 3)
        return IntentReading(name=name, confidence=confidence, source="copilot", bot_said=bot_said)
    return IntentReading(name=name, source="bot", bot_said=bot_said)


def _identity(state: SessionState) -> Identity:
    found = state.identity
    check = state.verification()
    if found is None:
        return Identity(status="unknown", verification=check)
    best = found.candidates[0] if found.candidates and found.status == "matched" else None
    return Identity(
        status=found.status if found.status in ("matched", "ambiguous", "not_found") else "unknown",
        customer_id=found.customer_id,
        name=best.full_name if best else None,
        how=", ".join(sorted({e.identifier for e in best.evidence})) if best else None,
        verification=check,
    )


def _mood(state: SessionState) -> MoodTrend:
    mood = state.mood
    said = state.customer_turns()
    # A quote says how they feel: "[secret]" or "402931" alone says nothing.
    quotes = [t.text for t in said if len(MASK.sub("", t.text).split()) >= 3][-MAX_QUOTES:]
    if mood is None:
        return MoodTrend(label=None, trend=None, quotes=quotes)
    return MoodTrend(label=str(mood.current.label), trend=str(mood.direction), quotes=quotes)


def _gaps(
    request: HandoffRequest, state: SessionState, identity: Identity, intent: IntentReading | None
) -> list[str]:
    gaps = []
    if request.customer is None and identity.status != "matched":
        gaps.append("customer: not sent, and the transcript did not identify them")
    elif identity.status != "matched":
        gaps.append(f"customer: sent, but it resolved as {identity.status}")
    if request.verification is None and identity.verification.status != "verified":
        gaps.append("verification: not sent; verify the customer before account changes")
    if intent is None:
        gaps.append("intent: not sent, and the transcript did not show one")
    if not request.transcript:
        gaps.append("transcript: not sent; the agent sees no conversation")
    if not request.tried:
        gaps.append("tried: not sent; the agent cannot tell what the bot already did")
    if request.origin is None and state.metadata.get("origin") is None:
        gaps.append("origin: not sent")
    return gaps


metadata = MetaData()
handoffs = Table(
    "handoffs",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("handoff_id", String(128), primary_key=True),
    Column("session_id", String(128), nullable=False),
    Column("packet", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)


class HandoffStore:
    """Packets by (tenant, handoff_id): the same id from another tenant is another handoff."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def save(self, tenant: str, packet: HandoffPacket) -> HandoffPacket:
        """Kept once; a second save of the same id returns the first packet."""
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(
                    handoffs.insert().values(
                        tenant=tenant,
                        handoff_id=packet.handoff_id,
                        session_id=packet.session_id,
                        packet=packet.model_dump_json(),
                        created_at=naive_utc(packet.created_at),
                    )
                )
        except IntegrityError:
            return self.get(tenant, packet.handoff_id)
        return packet

    def find(self, tenant: str, handoff_id: str) -> HandoffPacket | None:
        query = select(handoffs.c.packet).where(
            handoffs.c.tenant == tenant, handoffs.c.handoff_id == handoff_id
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else HandoffPacket.model_validate(json.loads(row.packet))

    def get(self, tenant: str, handoff_id: str) -> HandoffPacket:
        found = self.find(tenant, handoff_id)
        if found is None:
            raise NotFound(f"no handoff {handoff_id}")
        return found
