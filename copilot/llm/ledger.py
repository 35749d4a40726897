"""Every model call on record: which prompt and version, which model, tokens, cost and outcome."""

from __future__ import annotations

import logging
import threading
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    func,
    select,
)

from copilot.llm.notes import Tally
from copilot.storage import open_database

log = logging.getLogger("copilot.llm")
metadata = MetaData()
llm_calls = Table(
    "llm_calls",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", String(128), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("purpose", String(16), nullable=False),
    Column("prompt", String(64), nullable=False),
    Column("model", String(128), nullable=False),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("detail", String(300)),
    Column("summary", Text, doc="the accepted running summary after this call, if any"),
    Column("covers", Integer, doc="how many of the session's turns that summary covers"),
    Column("at", DateTime, nullable=False),
    Index("ix_llm_session", "session_id"),
)


class CallLedger:
    """Model calls per session; the budget cap reads its totals here, so it survives restarts."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def record(
        self,
        session_id: str,
        event_id: str,
        purpose: str,
        prompt: str,
        model: str,
        tally: Tally,
        outcome: str,
        detail: str | None = None,
    ) -> None:
        log.info(
            "llm call session=%s event=%s purpose=%s prompt=%s model=%s tokens=%d+%d outcome=%s",
            session_id,
            event_id,
            purpose,
            prompt,
            model,
            tally.prompt_tokens,
            tally.completion_tokens,
            outcome,
        )
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                llm_calls.insert().values(
                    session_id=session_id,
                    event_id=event_id,
                    purpose=purpose,
                    prompt=prompt,
                    model=model,
                    prompt_tokens=tally.prompt_tokens,
                    completion_tokens=tally.completion_tokens,
                    cost_usd=tally.cost_usd,
                    outcome=outcome,
                    detail=(detail or "")[:300] or None,
                    at=datetime.now(UTC).replace(tzinfo=None),
                )
            )

    def keep_summary(self, session_id: str, event_id: str, summary: str, covers: int) -> None:
        """Store the summary policy accepted, so a restarted process carries on from it."""
        c = llm_calls.c
        latest = (
            select(func.max(c.id))
            .where(c.session_id == session_id, c.event_id == event_id, c.purpose == "cards")
            .scalar_subquery()
        )
        with self._lock, self.engine.begin() as conn:
            conn.execute(
                llm_calls.update().where(c.id == latest).values(summary=summary, covers=covers)
            )

    def last_summary(self, session_id: str) -> tuple[str, int] | None:
        c = llm_calls.c
        query = (
            select(c.summary, c.covers)
            .where(c.session_id == session_id, c.summary.is_not(None))
            .order_by(c.id.desc())
            .limit(1)
        )
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        return None if row is None else (str(row[0]), int(row[1] or 0))

    def spent(self, session_id: str) -> Tally:
        c = llm_calls.c
        query = select(
            func.count(),
            func.sum(c.prompt_tokens),
            func.sum(c.completion_tokens),
            func.sum(c.cost_usd),
        ).where(c.session_id == session_id)
        with self.engine.connect() as conn:
            n, p, o, cost = conn.execute(query).one()
        return Tally(
            calls=n or 0, prompt_tokens=p or 0, completion_tokens=o or 0, cost_usd=cost or 0.0
        )

    def calls(self, session_id: str) -> list[dict[str, Any]]:
        query = (
            select(llm_calls).where(llm_calls.c.session_id == session_id).order_by(llm_calls.c.id)
        )
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(query)]

    def close(self) -> None:
        self.engine.dispose()
