"""The rolling summary without an LLM: structured fields plus an extractive prose line."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ValidationError

from copilot.actions import missing_inputs
from copilot.card_parts import Attempt, HandoffOrigin
from copilot.extractive import summarize
from copilot.panel import Card, Provenance
from copilot.provided import identity_item
from copilot.session_state import SessionState
from copilot.stages.offers import resolved

MAX_QUOTES = 3


def structured(state: SessionState) -> dict[str, Any]:
    """Built from state the engine keeps anyway, so each event costs only its own update."""
    customer = state.customer_turns()
    view = state.view
    profile = view.profile.data if view else None
    context: list[str] = []
    if profile:
        context.append(
            f"{profile.full_name}, {profile.tier} customer since {profile.customer_since.year}"
        )
    for acct in (view.billing.data or []) if view else []:
        if acct.past_due:
            context.append(f"past due {acct.past_due.amount:.2f} since {acct.past_due.due_date}")
        if acct.autopay.status == "failed":
            context.append(f"autopay failed ({acct.autopay.last_failure_reason})")
        for usage in acct.usage:
            if usage.overage_months:
                context.append(f"data over plan in {usage.overage_months} of the last 4 months")
    # A match identifies; only a check verifies, and the summary keeps the two apart.
    verified = [f"{c.method} on {c.channel}" for c in state.checks() if c.result == "passed"]
    identity = state.identity
    identified = None
    if identity and identity.status == "matched":
        identified = "identified by " + ", ".join(
            sorted({e.identifier for e in identity.candidates[0].evidence})
        )
    actions = [
        f"offer {d.get('offer_id')} {d.get('response')}"
        if d.get("action") == "offer_response"
        else f"{d.get('action', 'action')}: {d.get('status', 'done')}"
        for _, d in state.actions
    ]
    check = state.verification()
    open_items = []
    if identity is None or identity.status != "matched":
        open_items.append("identity not confirmed")
    elif check.status != "verified":
        open_items.append(f"identity not verified ({check.text})")
    if state.progress is not None:
        open_items += state.progress.unresolved
        step = state.progress.next
        if step is not None:
            open_items += [
                f"'{step.title}' waits for {need}"
                for need in missing_inputs(step.uses, state.payment_method)
            ]
    if state.knowledge is not None and not state.knowledge.hits:
        open_items.append("no knowledge article found for the question")
    quotes = sorted(customer, key=lambda t: -len(t.text))[:MAX_QUOTES]
    return {
        "reason_for_contact": state.playbook_intent
        or (state.intent.intent if state.intent is not None else None),
        "customer_context": context,
        "identified": identified,
        "verified": verified,
        "verification": check.text,
        "actions_taken": actions,
        "resolution_state": "resolved" if resolved(state) else "open",
        "steps": state.progress.count if state.progress is not None else None,
        "open_items": open_items,
        "customer_words": [t.text for t in sorted(quotes, key=customer.index)],
        "channels": [c for c, _ in state.channels],
        "provided": provided(state),
        "handoff": handoff(state),
    }


def provided(state: SessionState) -> list[dict[str, Any]]:
    """What the customer already gave, the verification first: the agent does not ask again."""
    verified = identity_item(state.verification())
    items = [*([verified] if verified else []), *state.provided.values()]
    return [p.model_dump() for p in items]


def handoff(state: SessionState) -> dict[str, Any] | None:
    """What the bot handed over, as the card's contract allows: malformed parts are left out."""
    given = state.handoff
    if not given:
        return None
    tried = [_valid(Attempt, t) for t in _items(given.get("tried"))]
    questions = [q for q in _items(given.get("open_questions")) if isinstance(q, str)]
    origin = _valid(HandoffOrigin, given.get("origin"))
    return {
        "bot": str(given.get("handoff_from")),
        "from_channel": given.get("from_channel")
        if isinstance(given.get("from_channel"), str)
        else None,
        "tried": [t for t in tried if t is not None],
        "open_questions": questions,
        "origin": origin,
    }


def _items(value: object) -> list[Any]:
    return list(value) if isinstance(value, list) else []


def _valid(model: type[BaseModel], value: object) -> dict[str, Any] | None:
    try:
        return model.model_validate(value).model_dump(mode="json")
    except ValidationError:
        return None


def prose(summary: dict[str, Any], state: SessionState) -> str:
    first = state.customer_turns()[0].text if state.customer_turns() else ""
    parts = []
    if first:
        parts.append(f'Customer said: "{first}"')
    if summary["customer_context"]:
        parts.append("Context: " + "; ".join(summary["customer_context"]) + ".")
    if summary["actions_taken"]:
        parts.append("Done: " + "; ".join(summary["actions_taken"]) + ".")
    parts.append(f"Status: {summary['resolution_state']}.")
    return " ".join(parts)


def summary_card(state: SessionState) -> Card:
    data = structured(state)
    data["prose"] = prose(data, state)
    data["extract"] = summarize([(t.speaker, t.text) for t in state.turns])
    return Card(
        type="summary",
        id="summary",
        data=data,
        provenance=Provenance(events=[t.event_id for t in state.turns][-20:]),
    )
