"""Bots hand conversations to people: the handoff, its packet, and the published JSON Schemas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Path, Response

from copilot.events import ID_PATTERN
from copilot.handoff import HandoffAccepted, HandoffPacket, HandoffRequest
from copilot.handoff_intake import build_packet, events_for
from copilot.schemas import schemas
from copilot.session_registry import new_session_id
from server import errors
from server.auth import Principal, Reader, Sender
from server.deps import CopilotDeps, DepsDep
from tools.errors import NotFound

router = APIRouter(tags=["handoffs"])
HandoffId = Annotated[str, Path(pattern=ID_PATTERN, max_length=100)]


@router.post(
    "/v1/handoffs",
    status_code=201,
    responses={
        200: {"model": HandoffAccepted, "description": "this handoff_id was accepted before"},
        422: {"description": "a field has the wrong type: the message names its path"},
        **errors.answers(503),
    },
)
async def create_handoff(
    body: HandoffRequest, response: Response, deps: DepsDep, who: Sender
) -> HandoffAccepted:
    """A human session pre-filled with what the bot knows; the packet lists what it lacked.

    A bot gets the session's id back and nothing of the customer's: not the packet, which
    would tell it whose phone number it sent. Ten copies of one handoff at once make one
    session."""
    async with deps.claim(("handoff", who.tenant, body.handoff_id)):
        accepted, fresh = await _hand_off(body, deps, who)
    response.status_code = 201 if fresh else 200
    if who.role == "bot":
        return accepted.model_copy(update={"packet": None})
    return accepted


async def _hand_off(
    body: HandoffRequest, deps: CopilotDeps, who: Principal
) -> tuple[HandoffAccepted, bool]:
    store = deps.handoffs()
    before = store.find(who.tenant, body.handoff_id)
    if before is not None:
        return HandoffAccepted(session_id=before.session_id, duplicate=True, packet=before), False
    now = datetime.now(UTC)
    registry, engine = deps.registry(), deps.engine()
    # The events are built before the session exists: a request that cannot become events
    # leaves nothing behind.
    sid = new_session_id()
    events = events_for(body, sid, now, engine.deps.policies.redaction(who.tenant))
    channel = body.to_channel or body.channel
    info = registry.create(tenant=who.tenant, channel=channel, created_by=who.name, session_id=sid)
    if events:
        await engine.handle_all(events)
    live = engine.live(info.session_id)
    if live is None:  # the engine lost the session it just built: not the caller's fault
        raise NotFound(f"no session {info.session_id}")
    packet = build_packet(body, live.state, info.session_id, now)
    kept = store.save(who.tenant, packet)
    if kept.session_id != info.session_id:
        # Another worker took the same handoff first: keep theirs, and leave no trace of ours
        # in the customer's journey.
        registry.close(info.session_id, who.name)
        await engine.release(info.session_id)
        if engine.deps.touchpoints is not None:
            engine.deps.touchpoints.forget(info.session_id)
        return HandoffAccepted(session_id=kept.session_id, duplicate=True, packet=kept), False
    deps.metrics.events += len(events)
    return HandoffAccepted(session_id=info.session_id, duplicate=False, packet=packet), True


@router.get("/v1/handoffs/{handoff_id}")
async def get_handoff(handoff_id: HandoffId, deps: DepsDep, who: Reader) -> HandoffPacket:
    """The packet as it was handed over (another tenant's handoff is a 404)."""
    return deps.handoffs().get(who.tenant, handoff_id)


@router.get("/schemas")
async def list_schemas() -> list[str]:
    """The JSON Schemas the copilot publishes for the systems that talk to it."""
    return sorted(schemas())


@router.get("/schemas/{name}")
async def get_schema(name: Annotated[str, Path(max_length=64)]) -> dict[str, object]:
    published = schemas()
    if name not in published:
        raise NotFound(f"no schema {name}; published: {', '.join(sorted(published))}")
    return published[name]
