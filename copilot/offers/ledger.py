"""Offer outcomes in SQL: what was shown, accepted and dismissed, per session, for QA's rates."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from pydantic import BaseModel, computed_field
from sqlalchemy import (
    Column,
    DateTime,
    Engine,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    func,
    select,
)
from sqlalchemy.exc import IntegrityError

from copilot.offers.gate import OfferEvent, OfferHistory, OfferStatus
from copilot.storage import naive_utc, open_database

metadata = MetaData()
offer_events = Table(
    "offer_events",
    metadata,
    Column("session_id", String(128), nullable=False),
    Column("offer_id", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("customer_id", String(64), nullable=False),
    Column("event_id", String(128), nullable=False),
    Column("at", DateTime, nullable=False, doc="UTC"),
    Column("recorded_at", DateTime, nullable=False, doc="UTC"),
    PrimaryKeyConstraint("session_id", "offer_id", "status"),
)


class OfferStats(BaseModel):
    """How often one offer was shown, accepted and dismissed, over all sessions."""

    offer_id: str
    shown: int = 0
    accepted: int = 0
    dismissed: int = 0

    @computed_field  # type: ignore[prop-decorator]
    @property
    def acceptance_rate(self) -> float | None:
        """Accepted over shown; None before the offer was ever shown."""
        return round(self.accepted / self.shown, 4) if self.shown else None


class OfferLedger:
    """Offer events in SQLite (or any SQLAlchemy URL); can share the session store's database."""

    def __init__(self, url: str) -> None:
        self.engine: Engine = open_database(url, metadata)
        self._lock = threading.Lock()

    def record(
        self,
        session_id: str,
        customer_id: str,
        offer_id: str,
        status: OfferStatus,
        event_id: str,
        at: datetime,
    ) -> bool:
        """Store an offer event; the same (session, offer, status) again changes nothing."""
        row = {
            "session_id": session_id,
            "offer_id": offer_id,
            "status": status,
            "customer_id": customer_id,
            "event_id": event_id,
            "at": naive_utc(at),
            "recorded_at": naive_utc(datetime.now(UTC)),
        }
        with self._lock:
            try:
                with self.engine.begin() as conn:
                    conn.execute(offer_events.insert().values(**row))
            except IntegrityError:
                return False
        return True

    def history(self, session_id: str) -> OfferHistory:
        """The session's offer events, oldest first."""
        c = offer_events.c
        query = (
            select(c.offer_id, c.status, c.event_id, c.at)
            .where(c.session_id == session_id)
            .order_by(c.at, c.recorded_at)
        )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        events = [
            OfferEvent(offer_id=o, status=s, event_id=e, at=at.replace(tzinfo=UTC))
            for o, s, e, at in rows
        ]
        return OfferHistory(session_id=session_id, events=events)

    def stats(self) -> list[OfferStats]:
        """Counts per offer and status over every session, by offer id."""
        c = offer_events.c
        query = select(c.offer_id, c.status, func.count()).group_by(c.offer_id, c.status)
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        counts: dict[str, dict[str, int]] = {}
        for offer_id, status, n in rows:
            counts.setdefault(offer_id, {})[status] = n
        return [OfferStats(offer_id=o, **counts[o]) for o in sorted(counts)]

    def close(self) -> None:
        self.engine.dispose()
