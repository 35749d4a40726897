"""Turn a session's state into panel cards, each citing what it rests on."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from copilot import nba, reply_draft, summary
from copilot.panel import Card, Provenance
from copilot.pii import RedactionPolicy
from copilot.playbooks import PlaybookSet
from copilot.provided import FIELD_NAMES, repeat_message
from copilot.session_state import SessionState
from copilot.storage import aware_utc
from tools.view import Customer360


def build(
    state: SessionState, playbooks: PlaybookSet | None, policy: RedactionPolicy | None = None
) -> list[Card]:
    """Every offline card of a session, one builder each; policy masks the reply draft."""
    return [
        customer_card(state),
        journey_card(state),
        intent_card(state),
        mood_card(state),
        knowledge_card(state),
        nba.nba_card(state, state.progress, playbooks.name if playbooks else ""),
        nba.offer_card(state, state.offer),
        summary.summary_card(state),
        reply_draft.reply_card(state, policy),
        *alert_cards(state),
    ]


def standing(state: SessionState) -> str:
    """Identified is not verified: the one line every card uses for who this is."""
    check = state.verification()
    identity = state.identity
    if check.status == "verified":
        return "verified"
    if identity is not None and identity.status == "matched":
        return "identified, not verified"
    return "unknown"


def _calls(view: Customer360 | None) -> list[str]:
    return [c.id for c in view.tool_calls] if view else []


def customer_card(state: SessionState) -> Card:
    identity = state.identity
    prov = Provenance(
        events=state.identity_events,
        tool_calls=[c.id for c in identity.tool_calls] if identity else [],
    )
    if identity is None:
        return Card(
            type="customer",
            id="customer",
            status="empty",
            provenance=prov,
            data={
                "message": "no identifier yet: ask for a phone, email or account",
                "verification": state.verification().model_dump(mode="json"),
            },
        )
    if identity.status != "matched" or state.view is None:
        return Card(
            type="customer",
            id="customer",
            status="pending",
            provenance=prov,
            data={
                "resolution": identity.status,
                "message": identity.message,
                "candidates": [c.model_dump() for c in identity.candidates],
                "sources": [f"{c.system}.{c.operation}:{c.outcome}" for c in identity.tool_calls],
                "verification": state.verification().model_dump(mode="json"),
            },
        )
    view = state.view
    prov.tool_calls += _calls(view)
    profile = view.profile.data
    accounts = view.billing.data or []
    degraded = [
        f"{name}: {(s.error or 'unavailable').removeprefix(f'{s.system}: ')}"
        for name, s in (
            ("profile", view.profile),
            ("billing", view.billing),
            ("orders", view.orders),
            ("history", view.interactions),
        )
        if s.status != "ok"
    ]
    data: dict[str, Any] = {
        "customer_id": view.customer_id,
        "name": profile.full_name if profile else None,
        "tier": profile.tier if profile else None,
        "customer_since": str(profile.customer_since) if profile else None,
        "matched_by": [e.identifier for e in identity.candidates[0].evidence],
        "standing": standing(state),
        "verification": state.verification().model_dump(mode="json"),
        "accounts": [
            {
                "account_number": a.account.account_number,
                "balance": a.account.balance,
                "past_due": a.past_due.model_dump(mode="json") if a.past_due else None,
                "autopay": a.autopay.model_dump(mode="json"),
                "usage": [u.model_dump(mode="json") for u in a.usage],
            }
            for a in accounts
        ],
        "open_orders": [
            o.order_number for o in (view.orders.data.open_orders if view.orders.data else [])
        ],
        "recent_purchases": [
            {
                "order": p.order.order_number,
                "date": p.order.placed_at.date().isoformat(),
                "total": p.order.total,
                "items": [i.model_dump(mode="json") for i in p.items],
            }
            for p in (view.orders.data.recent_purchases if view.orders.data else [])
        ],
        "degraded": degraded,
        "sources": [
            f"{c.system}.{c.operation}:{c.outcome}"
            for c in [*identity.tool_calls, *view.tool_calls]
        ],
    }
    return Card(
        type="customer",
        id="customer",
        status="degraded" if degraded else "ok",
        data=data,
        provenance=prov,
    )


def journey_card(state: SessionState) -> Card:
    """This conversation's channels and the customer's history on one timeline."""
    view = state.view
    history = [e.model_dump(mode="json") for e in (view.timeline[:10] if view else [])]
    return Card(
        type="journey",
        id="journey",
        data={
            "this_conversation": [{"channel": c, "from_event": e} for c, e in state.channels],
            "history": history,
            "sessions": sessions(state),
            "origin": origin(state),
        },
        provenance=Provenance(events=[e for _, e in state.channels], tool_calls=_calls(view)),
    )


ORIGIN_LOOKBACK = timedelta(days=7)
ORIGIN_KINDS = {
    "email_link": "the chat link in the {channel}",
    "ivr_transfer": "a transfer from the IVR",
    "app_button": "the app's help button",
}


def sessions(state: SessionState) -> list[dict[str, Any]]:
    """The customer's copilot sessions across channels, this one first."""
    out: list[dict[str, Any]] = []
    if state.now is not None and state.started is not None:
        check = state.verification()
        out.append(
            {
                "session_id": state.session_id,
                "channel": state.channels[-1][0] if state.channels else None,
                "started_at": state.started.isoformat(),
                "last_at": state.now.isoformat(),
                "intent": state.playbook_intent or getattr(state.intent, "intent", None),
                "verified": check.text if check.status == "verified" else None,
                "current": True,
            }
        )
    for t in state.other_sessions:
        out.append(
            {
                "session_id": t.session_id,
                "channel": t.channel,
                "started_at": t.started_at.isoformat(),
                "last_at": t.last_at.isoformat(),
                "intent": t.intent,
                "verified": f"{t.verified_method} in {t.verified_channel}"
                if t.verified_method
                else None,
                "current": False,
            }
        )
    return out


def origin(state: SessionState) -> dict[str, Any] | None:
    """Where this contact came from: as the channel said, else the newest message we sent."""
    given = state.metadata.get("origin")
    timeline = state.view.timeline if state.view else []
    if isinstance(given, dict) and given.get("channel"):
        ref = str(given.get("reference") or "")
        record = next((e for e in timeline if e.source.endswith(f":{ref}")), None) if ref else None
        channel = str(given["channel"])
        how = ORIGIN_KINDS.get(str(given.get("kind")), "{channel}").format(channel=channel)
        if record is not None and channel == "email" and "billing" in record.summary:
            how = how.replace("email", "billing email")
        summary = f"{how}: {record.summary.split(': ', 1)[-1]}" if record else how
        return {
            "channel": channel,
            "kind": str(given.get("kind") or "stated"),
            "summary": summary,
            "at": record.at.isoformat() if record else given.get("at"),
            "source": record.source if record else "the channel",
        }
    if state.started is None:
        return None
    for entry in timeline:  # newest first
        at = aware_utc(entry.at)
        if entry.kind == "interaction" and entry.outcome == "sent" and at <= state.started:
            if state.started - at <= ORIGIN_LOOKBACK:
                return {
                    "channel": entry.channel,
                    "kind": "likely",
                    "summary": f"likely the {entry.channel} we sent: {entry.summary}",
                    "at": entry.at.isoformat(),
                    "source": entry.source,
                }
            break
    return None


def intent_card(state: SessionState) -> Card:
    if state.intent is None:
        return Card(type="intent", id="intent", status="empty", data={"intent": None})
    guess = state.intent
    data: dict[str, Any] = {
        "intent": guess.intent,
        "confidence": round(float(guess.confidence), 3),
        "topic": state.playbook_intent,  # what the conversation is about, not just this line
    }
    alternatives = getattr(guess, "alternatives", None)
    if alternatives:
        data["alternatives"] = [list(a) for a in alternatives]
    return Card(
        type="intent",
        id="intent",
        data=data,
        provenance=Provenance(events=[state.intent_event or ""]),
    )


def mood_card(state: SessionState) -> Card:
    if state.mood is None:
        return Card(type="mood", id="mood", status="empty", data={"label": None})
    mood = state.mood
    data = mood.model_dump(mode="json") if hasattr(mood, "model_dump") else dict(mood)
    return Card(
        type="mood",
        id="mood",
        data=data,
        provenance=Provenance(events=[t.event_id for t in state.customer_turns()[-3:]]),
    )


def knowledge_card(state: SessionState) -> Card:
    result = state.knowledge
    if result is None:
        return Card(
            type="knowledge",
            id="knowledge",
            status="empty",
            data={"reason": "no customer question yet"},
        )
    hits = [{"citation": h.citation.model_dump(), "chunk_id": h.chunk_id} for h in result.hits]
    return Card(
        type="knowledge",
        id="knowledge",
        status="ok" if hits else "empty",
        data={
            "status": result.status,
            "confidence": result.confidence,
            "reason": result.reason,
            "hits": hits,
            "query": result.query,
        },
        provenance=Provenance(
            events=[state.knowledge_event or ""], passages=[h.chunk_id for h in result.hits]
        ),
    )


def alert_cards(state: SessionState) -> list[Card]:
    out = []
    identity = state.identity
    if identity is not None and identity.status == "ambiguous":
        out.append(
            Card(
                type="alert",
                id="alert:identity",
                data={
                    "severity": "warning",
                    "message": "Several customers match: confirm "
                    "who this is before sharing account details.",
                    "candidates": [c.customer_id for c in identity.candidates],
                },
                provenance=Provenance(events=state.identity_events),
            )
        )
    for foreign in state.foreign[-1:]:
        out.append(
            Card(
                type="alert",
                id="alert:foreign",
                data={
                    "severity": "high",
                    "message": f"The {FIELD_NAMES.get(foreign.kind, foreign.kind)} "
                    f"{foreign.masked} belongs to another customer: not loaded. Confirm who "
                    "you are helping before sharing anything.",
                    "field": foreign.kind,
                    "value": foreign.masked,
                },
                provenance=Provenance(events=[foreign.event_id]),
            )
        )
    if state.repeat is not None:
        item, asked_in = state.repeat
        out.append(
            Card(
                type="alert",
                id="alert:repeat",
                data={
                    "severity": "warning",
                    "message": repeat_message(item),
                    "field": item.field,
                    "value": item.value,
                    "source": item.source,
                },
                provenance=Provenance(events=[e for e in (asked_in, item.event_id) if e]),
            )
        )
    mood = state.mood
    if mood is not None and getattr(mood, "alert", False):
        out.append(
            Card(
                type="alert",
                id="alert:escalation",
                data={
                    "severity": "high",
                    "message": getattr(mood, "alert_reason", None) or "escalation risk",
                },
                provenance=Provenance(events=[t.event_id for t in state.customer_turns()[-3:]]),
            )
        )
    return out
