"""Sessions: create, list, get, close; the current panel; feedback on cards; ask the copilot."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from copilot.ask import MAX_QUESTION, AskResult
from copilot.events import ID_PATTERN, Channel
from copilot.panel import Card
from copilot.session_registry import MAX_FEEDBACK_TEXT, Feedback, SessionInfo, Verdict
from server.auth import Forbidden, Principal, Reader, Sender, Writer
from server.deps import CopilotDeps, DepsDep

router = APIRouter(prefix="/v1/sessions", tags=["sessions"])
SessionId = Annotated[str, Path(pattern=ID_PATTERN)]


class NewSession(BaseModel):
    model_config = ConfigDict(extra="forbid")
    channel: Channel = "chat"
    session_id: str | None = Field(None, pattern=ID_PATTERN)


class PanelView(BaseModel):
    session_id: str
    version: int
    cards: list[Card]


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")
    card_id: str = Field(min_length=1, max_length=160)
    card_version: int = Field(ge=0, le=2**31 - 1)
    verdict: Verdict
    text: str | None = Field(None, max_length=MAX_FEEDBACK_TEXT)


class Question(BaseModel):
    model_config = ConfigDict(extra="forbid")
    question: str = Field(min_length=1, max_length=MAX_QUESTION)


def owned(deps: CopilotDeps, session_id: str, who: Principal) -> SessionInfo:
    """The session, when the caller's tenant owns it: 404 when unknown, 403 when not theirs."""
    info = deps.registry().get(session_id)
    if info.tenant != who.tenant:
        raise Forbidden(f"session {session_id} belongs to another tenant")
    return info


@router.post("", status_code=201)
async def create_session(body: NewSession, deps: DepsDep, who: Sender) -> SessionInfo:
    """A new session for the caller's tenant; the id is made up unless given."""
    return deps.registry().create(who.tenant, body.channel, who.name, body.session_id)


@router.get("")
async def list_sessions(
    deps: DepsDep,
    who: Reader,
    state: Literal["open", "all"] = "open",
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[SessionInfo]:
    """The tenant's sessions, newest first."""
    return deps.registry().sessions(who.tenant, open_only=state == "open", limit=limit)


@router.get("/{session_id}")
async def get_session(session_id: SessionId, deps: DepsDep, who: Reader) -> SessionInfo:
    return owned(deps, session_id, who)


@router.post("/{session_id}/close")
async def close_session(session_id: SessionId, deps: DepsDep, who: Writer) -> SessionInfo:
    """No more events are accepted; the panel and the log stay readable."""
    owned(deps, session_id, who)
    info = deps.registry().close(session_id, who.name)
    await deps.broadcaster.forget(session_id)
    await deps.engine().release(session_id)
    return info


@router.get("/{session_id}/panel")
async def get_panel(session_id: SessionId, deps: DepsDep, who: Reader) -> PanelView:
    """Every card as it is now, with the panel's version."""
    owned(deps, session_id, who)
    cards, version = await deps.engine().snapshot(session_id)
    return PanelView(session_id=session_id, version=version, cards=cards)


@router.post("/{session_id}/feedback", status_code=201)
async def give_feedback(
    session_id: SessionId, body: FeedbackIn, deps: DepsDep, who: Reader
) -> Feedback:
    """An agent accepted, dismissed or edited a card (QA reviewers may too)."""
    owned(deps, session_id, who)
    return deps.registry().give_feedback(
        session_id, body.card_id, body.card_version, body.verdict, body.text, who.name
    )


@router.get("/{session_id}/feedback")
async def list_feedback(session_id: SessionId, deps: DepsDep, who: Reader) -> list[Feedback]:
    owned(deps, session_id, who)
    return deps.registry().feedback(session_id)


@router.post("/{session_id}/ask")
async def ask(session_id: SessionId, body: Question, deps: DepsDep, who: Writer) -> AskResult:
    """The agent's own question, answered with the customer's data and the knowledge base."""
    owned(deps, session_id, who)
    return await deps.engine().ask(session_id, body.question)
