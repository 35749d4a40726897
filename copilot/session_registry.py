"""Which tenant owns each session, its life cycle, and what agents said about its cards."""

from __future__ import annotations

import threading
import uuid
from collections import OrderedDict
from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, computed_field
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    select,
)
from sqlalchemy.exc import IntegrityError

from copilot.events import Channel
from copilot.pii import redact
from copilot.storage import aware_utc, naive_utc, open_database
from tools.errors import InvalidInput, NotFound

Verdict = Literal["accepted", "dismissed", "edited"]
metadata = MetaData()
sessions = Table(
    "session_meta",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("created_by", String(128), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("closed_at", DateTime),
    Column("closed_by", String(128)),
    Index("ix_session_tenant", "tenant", "created_at"),
)
feedback = Table(
    "card_feedback",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(128), nullable=False),
    Column("card_id", String(160), nullable=False),
    Column("card_version", Integer, nullable=False),
    Column("verdict", String(16), nullable=False),
    Column("text", Text),
    Column("given_by", String(128), nullable=False),
    Column("at", DateTime, nullable=False),
    Index("ix_feedback_session", "session_id"),
)


class SessionInfo(BaseModel):
    session_id: str
    tenant: str
    channel: Channel
    created_by: str
    created_at: datetime
    closed_at: datetime | None = None
    closed_by: str | None = None

    @computed_field  # type: ignore[prop-decorator]
    @property
    def open(self) -> bool:
        return self.closed_at is None


class Feedback(BaseModel):
    card_id: str
    card_version: int
    verdict: Verdict
    text: str | None = None
    given_by: str
    at: datetime


class SessionRegistry:
    """Session ownership and card feedback, in the same database as the session log.

    Every event checks its session's owner and state, so what was read is kept in memory: this
    process is the only writer of a session it serves (sessions are sticky to one engine), and
    close() updates what it keeps. Bounded: the oldest entries go first.
    """

    def __init__(self, url: str, cached: int = 10_000) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, SessionInfo] = OrderedDict()
        self._cached = cached

    def _keep(self, info: SessionInfo) -> SessionInfo:
        self._cache[info.session_id] = info
        self._cache.move_to_end(info.session_id)
        while len(self._cache) > self._cached:
            self._cache.popitem(last=False)
        return info

    def create(
        self, tenant: str, channel: str, created_by: str, session_id: str | None = None
    ) -> SessionInfo:
        """A new session; a given id that exists already is refused, never taken over."""
        info = SessionInfo(
            session_id=session_id or new_session_id(),
            tenant=tenant,
            channel=channel,
            created_by=created_by,
            created_at=_now(),
        )
        try:
            with self._lock, self.engine.begin() as conn:
                conn.execute(sessions.insert().values(**_naive(info.model_dump(exclude={"open"}))))
        except IntegrityError:
            raise InvalidInput("session_id", f"{info.session_id} already exists") from None
        return self._keep(info)

    def get(self, session_id: str) -> SessionInfo:
        kept = self._cache.get(session_id)
        if kept is not None:
            return kept
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).where(sessions.c.session_id == session_id)).first()
        if row is None:
            raise NotFound(f"no session {session_id}")
        return self._keep(_info(row._mapping))

    def sessions(self, tenant: str, open_only: bool = False, limit: int = 100) -> list[SessionInfo]:
        query = select(sessions).where(sessions.c.tenant == tenant)
        if open_only:
            query = query.where(sessions.c.closed_at.is_(None))
        query = query.order_by(sessions.c.created_at.desc()).limit(limit)
        with self.engine.connect() as conn:
            return [_info(r._mapping) for r in conn.execute(query)]

    def close(self, session_id: str, by: str) -> SessionInfo:
        info = self.get(session_id)
        if info.closed_at is not None:
            return info
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                sessions.update()
                .where(sessions.c.session_id == session_id)
                .values(closed_at=_now().replace(tzinfo=None), closed_by=by)
            )
        self._cache.pop(session_id, None)
        return self.get(session_id)

    def give_feedback(
        self,
        session_id: str,
        card_id: str,
        card_version: int,
        verdict: Verdict,
        text: str | None,
        by: str,
    ) -> Feedback:
        item = Feedback(
            card_id=card_id,
            card_version=card_version,
            verdict=verdict,
            # Agents paste what the customer said: masked by the same policy as the transcript.
            text=redact(text).text if text else text,
            given_by=by,
            at=_now(),
        )
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                feedback.insert().values(session_id=session_id, **_naive(item.model_dump()))
            )
        return item

    def feedback(self, session_id: str) -> list[Feedback]:
        query = select(feedback).where(feedback.c.session_id == session_id).order_by(feedback.c.id)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        return [
            Feedback(
                card_id=r.card_id,
                card_version=r.card_version,
                verdict=r.verdict,
                text=r.text,
                given_by=r.given_by,
                at=aware_utc(r.at),
            )
            for r in rows
        ]

    def close_db(self) -> None:
        self.engine.dispose()


def new_session_id() -> str:
    return f"s-{uuid.uuid4().hex[:16]}"


def _now() -> datetime:
    return datetime.now(UTC)


def _naive(values: dict[str, object]) -> dict[str, object]:
    return {k: naive_utc(v) if isinstance(v, datetime) else v for k, v in values.items()}


def _info(row: object) -> SessionInfo:
    data = dict(row)  # type: ignore[call-overload]
    for key in ("created_at", "closed_at"):
        if data.get(key) is not None:
            data[key] = aware_utc(data[key])
    return SessionInfo(**data)


# The widest feedback text an agent may leave: an edited reply, not an essay.
MAX_FEEDBACK_TEXT = 2000
