"""Live voice in: a WebSocket speaking Twilio Media Streams; one call is one voice session.

Each final utterance goes into the engine the way POST /v1/sessions/{id}/events sends it, so it
is redacted, logged and fanned out like a typed one; partial transcripts go back on the socket
only (they are not events: the panel changes on what was said, not on what is being said).
Refusals close the socket with 4000 + the HTTP status and a reason, as /ws does; 1009 for a
frame too big, 1000 when the call ends.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import logging
import re
from dataclasses import asdict

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError
from starlette.applications import Starlette

from copilot.events import Event
from copilot.panel import TranscriptLine
from copilot.voice.audio import Samples, mulaw_decode, pcm16_decode, to_float
from copilot.voice.call import Call, Transcript
from copilot.voice.transcriber import Transcriber
from server.auth import Forbidden, Principal, Unauthorized, principal
from server.deps import CopilotDeps
from server.media_stream import MAX_MESSAGE, MESSAGE, Dtmf, Media, Start, Stop
from server.routes.live import require_open
from tools.errors import CopilotError, NotFound

router = APIRouter(prefix="/v1/voice", tags=["voice"])
log = logging.getLogger("copilot.voice")
SENDER_ROLES = ("agent", "bot", "supervisor", "admin")  # who may send events (a bridge is a bot)
_UNSAFE = re.compile(r"[^A-Za-z0-9._:-]")


class Refused(Exception):
    """Ends the call with this close code and reason."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason.encode()[:120].decode(errors="ignore")


def _refused(exc: CopilotError) -> Refused:
    return Refused(4000 + exc.status_code, exc.message)


def transcriber(app: Starlette) -> Transcriber:
    """The app's one speech model, made on the first call (loading it is the first call's cost)."""
    found: Transcriber | None = getattr(app.state, "transcriber", None)
    if found is None:
        deps: CopilotDeps = app.state.deps
        found = Transcriber(deps.settings.asr_model)
        app.state.transcriber = found
    return found


def caller(websocket: WebSocket) -> Principal:
    """A bearer header, ?access_token= or ?token= (Twilio's <Stream> can send no headers)."""
    token = websocket.query_params.get("token")
    if (
        token
        and "access_token" not in websocket.query_params
        and not websocket.headers.get("authorization")
    ):
        deps: CopilotDeps = websocket.app.state.deps
        found = deps.keys.find(token)
        if found is None:
            raise Unauthorized("unknown API key")
        who = found
    else:
        who = principal(websocket, query=True)
    if who.role not in SENDER_ROLES:
        raise Forbidden(f"the {who.role} role may not send calls")
    return who


async def _session(deps: CopilotDeps, start: Start, who: Principal) -> str:
    """The call's session: the one named in customParameters.session_id (a chat that became a
    call), else call-<callSid>, made on first connect and taken up again on a reconnect."""
    named = start.start.customParameters.get("session_id")
    session_id = named or f"call-{_UNSAFE.sub('-', start.start.callSid)}"
    try:
        await require_open(deps, session_id, who)
    except NotFound:
        if named:
            raise
        deps.registry().create(who.tenant, "voice", who.name, session_id)
    return session_id


@router.websocket("/stream")
async def media_stream(websocket: WebSocket) -> None:
    """Twilio Media Streams in (connected, start, media, dtmf, mark, stop); transcripts out."""
    deps: CopilotDeps = websocket.app.state.deps
    await websocket.accept()
    call: Call | None = None
    encoding = "audio/x-mulaw"
    try:
        try:
            who = caller(websocket)
        except CopilotError as exc:
            raise _refused(exc) from None
        while True:
            frame = await websocket.receive()
            if frame["type"] == "websocket.disconnect":
                break
            text = frame.get("text")
            if text is None:
                raise Refused(4400, "send JSON text frames (Twilio Media Streams)")
            if len(text) > MAX_MESSAGE:
                raise Refused(1009, f"a message is at most {MAX_MESSAGE} characters")
            try:
                message = MESSAGE.validate_json(text)
            except ValidationError as exc:
                raise Refused(4400, _problem(exc)) from None
            if isinstance(message, Start):
                if call is not None:
                    raise Refused(4400, "start: the call has started already")
                call = await _begin(websocket, deps, message, who)
                encoding = message.start.mediaFormat.encoding
            elif isinstance(message, Media | Dtmf) and call is None:
                raise Refused(4400, f"{message.event}: send start first")
            elif isinstance(message, Media) and call is not None:
                call.audio(message.media.track, _samples(message, encoding))
            elif isinstance(message, Dtmf) and call is not None:
                await call.key(message.dtmf.digit)
            elif isinstance(message, Stop):
                break
        if call is not None:
            await call.finish()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=1000, reason="call ended")
    except Refused as exc:
        if call is not None:
            call.cancel()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=exc.code, reason=exc.reason)
    except WebSocketDisconnect:
        # The bridge hung up without a stop: what was said still reaches the panel.
        if call is not None:
            await call.finish()
    except CopilotError as exc:  # the session closed mid-call, the lease moved
        if call is not None:
            call.cancel()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=4000 + exc.status_code, reason=exc.message[:120])
    except Exception:  # the bridge gets a code, the log gets the traceback
        log.exception("voice call failed")
        if call is not None:
            call.cancel()
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.close(code=1011, reason="internal error")


def _problem(exc: ValidationError) -> str:
    err = exc.errors()[0]
    if err["type"] == "union_tag_invalid":
        return f"unknown event {err['input'].get('event')!r}"[:120]
    where = ".".join(str(p) for p in err["loc"]) or "message"
    return f"{where}: {err['msg']}"


def _samples(message: Media, encoding: str) -> Samples:
    try:
        raw = base64.b64decode(message.media.payload, validate=True)
    except (binascii.Error, ValueError):
        raise Refused(4400, "media.payload: not base64") from None
    return to_float(mulaw_decode(raw) if encoding == "audio/x-mulaw" else pcm16_decode(raw))


async def _begin(websocket: WebSocket, deps: CopilotDeps, start: Start, who: Principal) -> Call:
    try:
        session_id = await _session(deps, start, who)
    except CopilotError as exc:
        raise _refused(exc) from None
    fmt = start.start.mediaFormat
    engine = deps.engine()

    async def post(event: Event) -> None:
        await engine.handle(event)
        deps.metrics.events += 1

    # A bidirectional Twilio stream takes only media, mark and clear back: ?transcripts=off.
    quiet = websocket.query_params.get("transcripts") == "off"

    async def tell(transcript: Transcript) -> None:
        # The agent's panel shows the words as they are spoken, whatever the bridge takes back.
        said = asdict(transcript)
        said.pop("track")
        await engine.publish(TranscriptLine(session_id=session_id, **said))
        if quiet:
            return
        with contextlib.suppress(RuntimeError, WebSocketDisconnect):
            await websocket.send_json({"event": "transcript", **asdict(transcript)})

    stt = transcriber(websocket.app)
    await asyncio.to_thread(stt.load)
    call = Call(
        session_id=session_id,
        call_id=f"call-{_UNSAFE.sub('-', start.start.callSid)}",
        rate=fmt.sampleRate,
        transcriber=stt,
        post=post,
        tell=tell,
    )
    call.start()
    if not quiet:
        await websocket.send_json({"event": "session", "session_id": session_id})
    log.info("call %s is session %s", start.start.callSid, session_id)
    return call
