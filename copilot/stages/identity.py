"""Who the customer is: identifiers in, a match (identified) and the checks that verify it.

A phone, email, account or order number identifies; only a verification (a code, a PIN,
security questions, a channel's authenticated metadata) verifies. A check made elsewhere
carries over only through a link to this conversation: a bot's handoff of it, or channel
metadata naming the verification record. An identifier typed later that belongs to someone
else never loads that customer's data: it raises an alert.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from copilot.deps import EngineDeps
from copilot.entities import Entities
from copilot.events import Event
from copilot.provided import provided_item
from copilot.session_state import CONTACT_KEYS, Foreign, SessionState
from copilot.storage import aware_utc
from copilot.verification import Check
from tools.calls import Caller, mask
from tools.errors import CopilotError, NotFound
from tools.identity import Candidate, Evidence, IdentityQuery, Resolution, resolve
from tools.view import customer_360

TYPED = ("phone", "email", "account", "order")
# A purchase remembered loosely ("a couple of weeks back") or not at all is searched around it.
ROUGH_DAYS = 5
RECENT_DAYS = 30
# A system that was down when asked is asked again on a later turn, at most this often.
RETRY_AFTER = timedelta(seconds=20)


def note_provided(state: SessionState, event: Event, found: Entities) -> None:
    """The identifiers the customer gave, first mention kept: the agent need not ask again."""
    for name, values in (
        ("phone", found.phones),
        ("email", found.emails),
        ("account", found.accounts),
        ("order", found.orders),
        ("card_last4", found.card_last4),
    ):
        if values and name not in state.provided:
            state.provided[name] = provided_item(
                name, values[0], "customer", event.channel, event.event_id
            )


def _typed_lists(e: Entities) -> tuple[tuple[str, list[str]], ...]:
    return (("phone", e.phones), ("email", e.emails), ("account", e.accounts), ("order", e.orders))


def typed(state: SessionState) -> list[tuple[str, str]]:
    """Every identifier typed in the conversation, by kind, oldest first."""
    return [(kind, v) for kind, values in _typed_lists(state.entities) for v in values]


def query(state: SessionState) -> dict[str, str]:
    """The identifiers known so far: the channel's first, then the newest typed ones."""
    e = state.entities
    given: dict[str, str] = {}
    for key in CONTACT_KEYS:
        if state.metadata.get(key):
            given[key] = str(state.metadata[key])
    for key, values in _typed_lists(e):
        if values and key not in given:
            given[key] = values[-1]
    if e.card_last4 and e.amounts:
        given.update(card_last4=e.card_last4[-1], amount=str(e.amounts[-1]))
        if e.dates:
            given["purchase_date"] = e.dates[-1].isoformat()
        elif e.about_dates:
            given["purchase_date"] = e.about_dates[-1].isoformat()
            given["tolerance_days"] = str(ROUGH_DAYS)
        elif state.now is not None:
            # No date at all: search the recent window and show the candidates found.
            around = state.now.date() - timedelta(days=RECENT_DAYS)
            given.update(purchase_date=around.isoformat(), tolerance_days=str(RECENT_DAYS))
    return given


async def recall(deps: EngineDeps, state: SessionState) -> None:
    """After a restart: the customer this session identified, when its log alone no longer
    says who (the tenant masks the emails or phones typed in it). Identified, never verified:
    the checks come from the log as always."""
    if state.view is not None or deps.touchpoints is None:
        return
    point = deps.touchpoints.get(state.session_id)
    tenant = deps.tenant_of(state.session_id) if deps.tenant_of else None
    if point is None or point.tenant != tenant:
        return
    await load_view(deps, state, point.customer_id)
    if state.view is None:
        return
    # The check this session recorded as its customer's before the restart is theirs again.
    kept = point.check()
    if kept is not None:
        state.bind(point.customer_id, lambda c: (c.method, c.at) == (kept.method, kept.at))
    profile = state.view.profile.data
    state.identity = Resolution(
        status="matched",
        customer_id=point.customer_id,
        message="identified earlier in this conversation",
        candidates=[
            Candidate(
                customer_id=point.customer_id,
                full_name=profile.full_name if profile else point.customer_id,
                confidence=1.0,
                evidence=[
                    Evidence(
                        identifier="account",
                        system="copilot",
                        detail="identified earlier in this conversation (kept across a restart)",
                    )
                ],
            )
        ],
        degraded=[],
        tool_calls=[],
    )


def degraded(state: SessionState) -> bool:
    """A lookup this session depends on failed because a system was down."""
    who = state.identity
    if who is not None and who.status != "matched" and who.degraded:
        return True
    view = state.view
    if view is None:
        return False
    sections = (view.profile, view.billing, view.orders, view.interactions)
    return any(s.status == "unavailable" for s in sections)


async def retry(deps: EngineDeps, state: SessionState) -> None:
    """Ask again what could not be asked: an identity lookup, a section of the customer view.
    Once the system is back the panel fills in; until then at most every RETRY_AFTER."""
    now = state.now
    if now is None or (state.retry_after is not None and now < state.retry_after):
        return
    if not degraded(state):
        return
    state.retry_after = now + RETRY_AFTER
    if state.identity is not None and state.identity.status != "matched":
        state.identity_key = ""  # identify() below resolves again
    elif state.view is not None:
        await load_view(deps, state, state.view.customer_id)


async def identify(deps: EngineDeps, state: SessionState, event: Event) -> None:
    given = query(state)
    # A number typed beside one the channel gave is not in the query but is still checked.
    key = json.dumps([given, typed(state)], sort_keys=True)
    if not given or key == state.identity_key:
        return
    state.identity_key = key
    if state.customer_id is not None:
        await _foreign(deps, state, event)
        return
    state.identity_events.append(event.event_id)
    direct = given.pop("customer_id", None)
    if direct:
        await load_view(deps, state, str(direct), direct=True)
        await _foreign(deps, state, event)
        return
    caller = Caller(timeout_s=deps.tool_timeout_s)
    try:
        state.identity = await resolve(deps.systems_for(state), IdentityQuery(**given), caller)
    except CopilotError:
        return  # a malformed identifier in free text is not an error for the agent
    if state.identity.status == "matched" and state.identity.customer_id:
        me = state.identity.customer_id
        # A check's contact kinds are the channel's own identifiers, which the query puts
        # before typed ones: a match through one of them is a match through what the channel
        # sent. One typed in the conversation identifies but never inherits an earlier check.
        matched = next((c for c in state.identity.candidates if c.customer_id == me), None)
        via: set[str] = {e.identifier for e in matched.evidence} if matched else set()
        state.bind(me, lambda c: not via.isdisjoint(c.contact))
        await load_view(deps, state, me)
        state.checked.update(f"{k}:{given[k]}" for k in TYPED if k in given)


async def _foreign(deps: EngineDeps, state: SessionState, event: Event) -> None:
    """Look up each newly typed identifier alone; one that is someone else's is only flagged."""
    me = state.identity.customer_id if state.identity else None
    for kind, value in typed(state):
        if f"{kind}:{value}" in state.checked:
            continue
        state.checked.add(f"{kind}:{value}")
        caller = Caller(timeout_s=deps.tool_timeout_s)
        try:
            found = await resolve(deps.systems_for(state), IdentityQuery(**{kind: value}), caller)
        except CopilotError:
            continue
        owners = {c.customer_id for c in found.candidates}
        if owners and me not in owners:
            state.foreign.append(
                Foreign(kind=kind, masked=mask(kind, value), event_id=event.event_id)
            )


async def load_view(
    deps: EngineDeps, state: SessionState, customer_id: str, direct: bool = False
) -> None:
    caller = Caller(timeout_s=deps.tool_timeout_s)
    try:
        state.view = await customer_360(
            deps.systems_for(state), customer_id, caller=caller, today=deps.today()
        )
    except NotFound:
        state.view = None
        return
    if deps.touchpoints is not None:
        # The journey lists the customer's other sessions in this tenant; a check of theirs
        # carries over only when this conversation's metadata names that session.
        tenant = deps.tenant_of(state.session_id) if deps.tenant_of else None
        state.other_sessions = [
            t
            for t in deps.touchpoints.for_customer(customer_id, tenant)
            if t.session_id != state.session_id
        ]
    state.carried = linked_checks(deps, state)
    if direct:
        state.bind(customer_id, lambda c: "customer_id" in c.contact)
        profile = state.view.profile.data
        state.identity = Resolution(
            status="matched",
            customer_id=customer_id,
            message="identified by the channel",
            candidates=[
                Candidate(
                    customer_id=customer_id,
                    full_name=profile.full_name if profile else customer_id,
                    confidence=1.0,
                    evidence=[
                        Evidence(
                            identifier="account", system="channel", detail="authenticated channel"
                        )
                    ],
                )
            ],
            degraded=[],
            tool_calls=[],
        )


def linked_checks(deps: EngineDeps, state: SessionState) -> list[Check]:
    """Checks this conversation is linked to by its channel's metadata (`verified_contact`):
    a CRM verification record, or the copilot session of the same customer and tenant that
    transferred it (an IVR leg, say)."""
    named = state.metadata.get("verified_contact")
    if not named or state.view is None:
        return []
    refs = {str(n) for n in named} if isinstance(named, list) else {str(named)}
    now = state.now or datetime.now(UTC)
    history = state.view.interactions.data
    out = [
        Check(v.method, v.channel, aware_utc(v.at), v.result, f"crm:{v.verification_id}")
        for v in (history.verifications if history else [])
        if v.verification_id in refs and aware_utc(v.at) <= now
    ]
    tenant = deps.tenant_of(state.session_id) if deps.tenant_of else None
    for point in state.other_sessions:
        if point.session_id not in refs:
            continue
        if deps.tenant_of is not None and deps.tenant_of(point.session_id) != tenant:
            continue  # another tenant's session is never a link
        check = point.check()
        if check is not None and check.at <= now:
            out.append(check)
    return out
