"""CRM over SQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import Engine, select

from tools import schema as s
from tools.models import (
    Address,
    Consent,
    ContactKind,
    ContactPoint,
    CustomerHistory,
    CustomerProfile,
    CustomerRef,
    Interaction,
    Verification,
)
from tools.sql.engine import without


class SqlCrm:
    """The CRM's own database read with SQLAlchemy Core."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    async def aclose(self) -> None:
        """Close pooled database connections."""
        self.engine.dispose()

    async def get_profile(self, customer_id: str) -> CustomerProfile | None:
        return await asyncio.to_thread(self._profile, customer_id)

    async def get_history(self, customer_id: str, limit: int = 50) -> CustomerHistory:
        return await asyncio.to_thread(self._history, customer_id, limit)

    async def find_by_contact(self, kind: ContactKind, normalized: str) -> list[CustomerRef]:
        query = (
            select(s.customers.c.customer_id, s.customers.c.first_name, s.customers.c.last_name)
            .join(s.contact_points, s.contact_points.c.customer_id == s.customers.c.customer_id)
            .where(s.contact_points.c.kind == kind, s.contact_points.c.normalized == normalized)
            .distinct()
            .order_by(s.customers.c.customer_id)
        )
        return await asyncio.to_thread(self._refs, query)

    async def find_by_name_postal(self, full_name: str, postal_code: str) -> list[CustomerRef]:
        query = (
            select(s.customers.c.customer_id, s.customers.c.first_name, s.customers.c.last_name)
            .join(s.addresses, s.addresses.c.customer_id == s.customers.c.customer_id)
            .where(s.addresses.c.postal_key == postal_code)
            .where(s.customers.c.full_name_key == full_name)
            .distinct()
            .order_by(s.customers.c.customer_id)
        )
        return await asyncio.to_thread(self._refs, query)

    async def get_refs(self, customer_ids: list[str]) -> list[CustomerRef]:
        query = (
            select(s.customers.c.customer_id, s.customers.c.first_name, s.customers.c.last_name)
            .where(s.customers.c.customer_id.in_(customer_ids))
            .order_by(s.customers.c.customer_id)
        )
        return await asyncio.to_thread(self._refs, query)

    def _refs(self, query: object) -> list[CustomerRef]:
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()  # type: ignore[call-overload]
        return [CustomerRef(customer_id=r[0], full_name=f"{r[1]} {r[2]}") for r in rows]

    def _profile(self, customer_id: str) -> CustomerProfile | None:
        with self.engine.connect() as conn:
            row = conn.execute(
                select(s.customers).where(s.customers.c.customer_id == customer_id)
            ).first()
            if row is None:
                return None
            where = s.contact_points.c.customer_id == customer_id
            contacts = conn.execute(
                select(s.contact_points).where(where).order_by(s.contact_points.c.id)
            ).all()
            addresses = conn.execute(
                select(s.addresses)
                .where(s.addresses.c.customer_id == customer_id)
                .order_by(s.addresses.c.id)
            ).all()
            consents = conn.execute(
                select(s.consents)
                .where(s.consents.c.customer_id == customer_id)
                .order_by(s.consents.c.id)
            ).all()
        data = row._asdict()
        data.pop("full_name_key")
        return CustomerProfile(
            **data,
            contacts=[ContactPoint(**without(c._asdict(), "id", "customer_id")) for c in contacts],
            addresses=[
                Address(**without(a._asdict(), "id", "customer_id", "postal_key"))
                for a in addresses
            ],
            consents=[Consent(**without(c._asdict(), "id", "customer_id")) for c in consents],
        )

    def _history(self, customer_id: str, limit: int) -> CustomerHistory:
        with self.engine.connect() as conn:
            events = conn.execute(
                select(s.interactions)
                .where(s.interactions.c.customer_id == customer_id)
                .order_by(s.interactions.c.started_at.desc())
                .limit(limit)
            ).all()
            checks = conn.execute(
                select(s.verifications)
                .where(s.verifications.c.customer_id == customer_id)
                .order_by(s.verifications.c.at.desc())
                .limit(limit)
            ).all()
        return CustomerHistory(
            interactions=[Interaction(**without(e._asdict(), "customer_id")) for e in events],
            verifications=[Verification(**without(v._asdict(), "customer_id")) for v in checks],
        )
