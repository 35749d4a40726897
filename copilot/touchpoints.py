"""The copilot's own sessions per customer, for journeys across channels (never for checks)."""

from __future__ import annotations

import threading
from datetime import datetime
from typing import Any

from pydantic import BaseModel, Field
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    Index,
    MetaData,
    String,
    Table,
    inspect,
    select,
    text,
)

from copilot.storage import aware_utc, embedded, naive_utc, open_database
from copilot.verification import METHOD_NAMES, Check

metadata = MetaData()
touchpoints = Table(
    "touchpoints",
    metadata,
    Column("session_id", String(128), primary_key=True),
    Column("tenant", String(64)),  # none for engines without tenants (replays, evals)
    Column("customer_id", String(64), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("started_at", DateTime, nullable=False),
    Column("last_at", DateTime, nullable=False),
    Column("intent", String(64)),
    Column("verified_method", String(32)),
    Column("verified_channel", String(16)),
    Column("verified_at", DateTime),
    Index("ix_touchpoints_customer", "customer_id", "last_at"),
)


class Touchpoint(BaseModel):
    session_id: str
    tenant: str | None = None
    customer_id: str
    channel: str
    started_at: datetime
    last_at: datetime
    intent: str | None = None
    verified_method: str | None = None
    verified_channel: str | None = None
    verified_at: datetime | None = None

    def check(self) -> Check | None:
        if self.verified_method and self.verified_at and self.verified_channel:
            source = f"session {self.session_id}"
            return Check(
                self.verified_method, self.verified_channel, self.verified_at, "passed", source
            )
        return None


class TouchpointLog:
    """One row per copilot session that identified its customer, kept up to date as it goes."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()
        columns = (
            {c["name"] for c in inspect(self.engine).get_columns("touchpoints")}
            if embedded(url)
            else {"tenant"}  # a migrated database has it (copilot/migrations)
        )
        if "tenant" not in columns:  # a database from before tenants: its rows match no tenant
            with self.engine.begin() as conn:
                conn.execute(text("ALTER TABLE touchpoints ADD COLUMN tenant VARCHAR(64)"))

    def record(self, point: Touchpoint) -> None:
        row: dict[str, Any] = point.model_dump()
        for key in ("started_at", "last_at", "verified_at"):
            if row[key] is not None:
                row[key] = naive_utc(row[key])
        mine = touchpoints.c.session_id == point.session_id
        with self._lock, self.engine.begin() as conn:
            # The session writes its whole row each time (started_at is its oldest event's).
            if conn.execute(touchpoints.update().where(mine).values(**row)).rowcount == 0:
                conn.execute(touchpoints.insert().values(**row))

    def get(self, session_id: str) -> Touchpoint | None:
        """This session's own row: whom it identified."""
        query = select(touchpoints).where(touchpoints.c.session_id == session_id)
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        found = dict(row._mapping)
        for key in ("started_at", "last_at", "verified_at"):
            if found[key] is not None:
                found[key] = aware_utc(found[key])
        return Touchpoint(**found)

    def forget(self, session_id: str) -> None:
        """A session that should never have been (a handoff that raced in twice) leaves."""
        with self._lock, self.engine.begin() as conn:
            conn.execute(touchpoints.delete().where(touchpoints.c.session_id == session_id))

    def for_customer(
        self, customer_id: str, tenant: str | None, limit: int = 20
    ) -> list[Touchpoint]:
        """The customer's sessions in this tenant only: another tenant's are never read."""
        c = touchpoints.c
        scope = c.tenant.is_(None) if tenant is None else c.tenant == tenant
        query = (
            select(touchpoints)
            .where((c.customer_id == customer_id) & scope)
            .order_by(touchpoints.c.last_at.desc())
            .limit(limit)
        )
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(query)]
        for row in rows:
            for key in ("started_at", "last_at", "verified_at"):
                if row[key] is not None:
                    row[key] = aware_utc(row[key])
        return [Touchpoint(**row) for row in rows]


class JourneyEntry(BaseModel):
    at: datetime
    channel: str
    kind: str = Field(description="interaction, verification, purchase (systems) or session")
    summary: str
    outcome: str
    source: str = Field(description="the record: crm:..., orders:..., or session:<id>")


class Journey(BaseModel):
    customer_id: str
    entries: list[JourneyEntry] = Field(description="newest first")


def journey(customer_id: str, timeline: list[Any], sessions: list[Touchpoint]) -> Journey:
    """The customer's touchpoints: the systems' timeline plus every copilot session."""
    entries = [
        JourneyEntry(
            at=aware_utc(e.at),
            channel=e.channel,
            kind=e.kind,
            summary=e.summary,
            outcome=e.outcome,
            source=e.source,
        )
        for e in timeline
    ]
    for t in sessions:
        verified = (
            f"verified by {METHOD_NAMES.get(t.verified_method, t.verified_method)}"
            if t.verified_method
            else "not verified"
        )
        entries.append(
            JourneyEntry(
                at=t.last_at,
                channel=t.channel,
                kind="session",
                summary=f"copilot session about {t.intent or 'an unknown topic'}",
                outcome=verified,
                source=f"session:{t.session_id}",
            )
        )
    return Journey(
        customer_id=customer_id, entries=sorted(entries, key=lambda e: e.at, reverse=True)
    )
