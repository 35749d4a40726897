"""Events in (one or a batch), the live stream out (SSE), and the agent's approvals."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from copilot.events import (
    ID_PATTERN,
    MAX_SEQ,
    MAX_TEXT,
    Channel,
    Event,
    EventType,
    Moment,
    Speaker,
)
from copilot.panel import Card, PanelUpdate
from server import errors
from server.auth import READ_ROLES, Forbidden, Principal, Sender, StreamReader, Writer, principal
from server.deps import CopilotDeps, DepsDep
from server.routes.sessions import SessionId, owned
from server.stream import sse
from tools.errors import CopilotError, InvalidInput, NotFound

router = APIRouter(prefix="/v1/sessions", tags=["live"])
MAX_BATCH = 100
HEARTBEAT_S = 15.0
# A sender's clock may run ahead of ours a little; an event from further ahead would make every
# later event "late" and fold the whole log again each time.
AHEAD = timedelta(days=1)
MAX_VERSION = 10**18  # a panel version a client can have seen, with room to spare
# What a change to a session can meet beyond its arguments: a closed session, the lease.
CHANGES = errors.answers(409, 503)


class Closed(CopilotError):
    status_code = 409
    code = "session_closed"


class EventIn(BaseModel):
    """An event for the session in the path; `ts` defaults to when it arrived."""

    model_config = ConfigDict(extra="forbid")
    event_id: str = Field(pattern=ID_PATTERN)
    type: EventType
    speaker: Speaker = "customer"
    channel: Channel = "chat"
    text: str = Field("", max_length=MAX_TEXT)
    ts: Moment | None = None
    seq: int | None = Field(None, ge=0, le=MAX_SEQ)
    data: dict[str, Any] = Field(default_factory=dict)

    @field_validator("ts")
    @classmethod
    def _not_ahead(cls, value: datetime | None) -> datetime | None:
        if value is not None and value > datetime.now(UTC) + AHEAD:
            raise ValueError("is more than a day ahead of the server's clock")
        return value


class Batch(BaseModel):
    model_config = ConfigDict(extra="forbid")
    events: list[EventIn] = Field(min_length=1, max_length=MAX_BATCH)


class Ack(BaseModel):
    """What became of an event; no panel content, so a bot that sends events reads nothing."""

    event_id: str
    duplicate: bool
    version: int | None = Field(None, description="the panel version this event produced")
    latency_ms: float | None = None


def _event(session_id: str, body: EventIn) -> Event:
    try:
        return Event(
            **body.model_dump(exclude={"ts"}),
            session_id=session_id,
            ts=body.ts or datetime.now(UTC),
        )
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"]) or "event"
        raise InvalidInput(where, err["msg"]) from None


async def require_open(deps: CopilotDeps, session_id: str, who: Principal) -> None:
    """The caller's tenant owns the session and it is still open; 403, 404 or 409 otherwise."""
    info = owned(deps, session_id, who)
    if not info.open:
        raise Closed(f"session {session_id} is closed")


async def _apply(deps: CopilotDeps, event: Event) -> Ack:
    update = await deps.engine().handle(event)
    deps.metrics.events += 1
    return _ack(event, update)


def _ack(event: Event, update: PanelUpdate | None) -> Ack:
    if update is None:
        return Ack(event_id=event.event_id, duplicate=True)
    return Ack(
        event_id=event.event_id,
        duplicate=False,
        version=update.version,
        latency_ms=update.latency_ms,
    )


@router.post("/{session_id}/events", status_code=202, responses=CHANGES)
async def post_event(session_id: SessionId, body: EventIn, deps: DepsDep, who: Sender) -> Ack:
    """One event; the same event_id again changes nothing."""
    await require_open(deps, session_id, who)
    return await _apply(deps, _event(session_id, body))


@router.post("/{session_id}/events:batch", status_code=202, responses=CHANGES)
async def post_events(session_id: SessionId, body: Batch, deps: DepsDep, who: Sender) -> list[Ack]:
    """Up to 100 events, all applied or none: each is checked, then they are applied in
    conversation order (seq, else ts) whatever order they came in."""
    await require_open(deps, session_id, who)
    events = [_event(session_id, e) for e in body.events]
    updates = await deps.engine().handle_all(events)
    deps.metrics.events += len(events)
    return [_ack(e, u) for e, u in zip(events, updates, strict=True)]


@router.get("/{session_id}/stream", response_class=StreamingResponse)
async def stream(
    session_id: SessionId,
    request: Request,
    deps: DepsDep,
    who: StreamReader,
    last_event_id: Annotated[str | None, Header()] = None,
    since: Annotated[int | None, Query(alias="last_event_id", ge=0, le=MAX_VERSION)] = None,
) -> StreamingResponse:
    """Panel updates (id = panel version) and token deltas as server-sent events.

    Reconnect with Last-Event-ID (or ?last_event_id=) to get what was missed.
    """
    owned(deps, session_id, who)
    resume = since if last_event_id is None else version_seen("Last-Event-ID", last_event_id)
    cards, version = await deps.engine().snapshot(session_id)
    items = deps.broadcaster.follow(session_id, resume, cards, version)

    async def body() -> AsyncIterator[str]:
        yield "retry: 2000\n\n"
        nxt = asyncio.ensure_future(anext(items))
        try:
            while True:
                done, _ = await asyncio.wait({nxt}, timeout=HEARTBEAT_S)
                if await request.is_disconnected():
                    return
                if not done:
                    yield ": ping\n\n"
                    continue
                try:
                    item = nxt.result()
                except StopAsyncIteration:
                    return
                yield sse(item)
                nxt = asyncio.ensure_future(anext(items))
        finally:
            # Stop the pending read first: a generator cannot be closed while it runs.
            nxt.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await nxt
            await items.aclose()

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(body(), media_type="text/event-stream", headers=headers)


def version_seen(name: str, value: str) -> int:
    """A client's last panel version: ASCII digits only (str.isdigit takes other scripts')."""
    if not (value.isascii() and value.isdigit() and len(value) <= 18):
        raise InvalidInput(name, "expected the panel version last received (0 to 10^18)")
    return int(value)


ActionId = Annotated[str, Path(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")]


async def _decide(
    deps: CopilotDeps, session_id: str, action: str, approve: bool, who: Principal
) -> Card:
    await require_open(deps, session_id, who)
    engine = deps.engine()
    await engine.decide(session_id, action, approve=approve, by=who.name)
    found = {c.id: c for c in engine.panel(session_id)}.get(f"action:{action}")
    if found is None:
        raise NotFound(f"no action {action} in session {session_id}")
    return found


@router.post("/{session_id}/actions/{action_id}/approve", responses=CHANGES)
async def approve(session_id: SessionId, action_id: ActionId, deps: DepsDep, who: Writer) -> Card:
    """Run a proposed write action; recorded with the approving agent's name."""
    return await _decide(deps, session_id, action_id, True, who)


@router.post("/{session_id}/actions/{action_id}/reject", responses=CHANGES)
async def reject(session_id: SessionId, action_id: ActionId, deps: DepsDep, who: Writer) -> Card:
    """Turn a proposal down; nothing is written to any system."""
    return await _decide(deps, session_id, action_id, False, who)


@router.websocket("/{session_id}/ws")
async def websocket_stream(websocket: WebSocket, session_id: str) -> None:
    """The same items as the SSE stream, as JSON text frames; ?access_token= and ?last_event_id=."""
    deps: CopilotDeps = websocket.app.state.deps
    try:
        who = principal(websocket, query=True)
        if who.role not in READ_ROLES:
            raise Forbidden(f"the {who.role} role may not read sessions")
        owned(deps, session_id, who)
        since = websocket.query_params.get("last_event_id")
        resume = None if since is None else version_seen("last_event_id", since)
    except CopilotError as exc:
        # Accepted, then closed: a browser reads a close code and reason (4000 + the HTTP
        # status), never the status of a refused handshake.
        await websocket.accept()
        reason = exc.message.encode()[:120].decode(errors="ignore")
        await websocket.close(code=4000 + exc.status_code, reason=reason)
        return
    await websocket.accept()
    cards, version = await deps.engine().snapshot(session_id)
    items = deps.broadcaster.follow(session_id, resume, cards, version)
    try:
        async for item in items:
            await websocket.send_text(item.model_dump_json())
        # The server ended the stream (it is stopping): 1012 tells the client to come back.
        await websocket.close(code=1012, reason="server restarting; reconnect")
    except WebSocketDisconnect:
        pass
    finally:
        await items.aclose()
