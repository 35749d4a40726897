"""Across channels the customer is one person: a check done in the IVR holds in chat for a while,
what they said to the bot is not asked again, and each contact knows the ones before it.

- `Policies`: how long a verification holds, per tenant (COPILOT_TENANTS_FILE), else the default.
- `verification_state`: the freshest passed check (this session, a handoff, an earlier session,
  the CRM) and whether it still holds at the conversation's clock.
- `TouchpointLog`: the copilot's own sessions per customer, for the journey and carried checks.
- `provided` / `asked`: what the customer already gave, and what an agent's line asks for.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import BaseModel, Field, ValidationError
from sqlalchemy import Column, DateTime, Engine, Index, MetaData, String, Table, select

from copilot.handoff import Provided, VerificationState
from copilot.settings import Settings
from copilot.storage import aware_utc, naive_utc, open_database
from copilot.yamlfile import read_yaml
from tools.calls import mask
from tools.errors import ConfigurationError

# --- tenant policy ---------------------------------------------------------------------------


class TenantPolicy(BaseModel):
    verification_window_minutes: float = Field(15.0, ge=0, le=24 * 60)


@dataclass
class Policies:
    """Per-tenant policy with a default; a session's tenant is looked up by the caller."""

    default: TenantPolicy
    tenants: dict[str, TenantPolicy]

    def window(self, tenant: str | None) -> timedelta:
        policy = self.tenants.get(tenant or "", self.default)
        return timedelta(minutes=policy.verification_window_minutes)

    @classmethod
    def from_settings(cls, settings: Settings) -> Policies:
        return cls.load(settings.tenants_file, settings.verification_window_minutes)

    @classmethod
    def load(cls, path: Path | None, default_minutes: float = 15.0) -> Policies:
        default = TenantPolicy(verification_window_minutes=default_minutes)
        if path is None:
            return cls(default, {})
        data = read_yaml(path, "tenant policies")
        if not isinstance(data, dict):
            raise ConfigurationError(f"{path}: expected a mapping of tenant to its policy")
        try:
            tenants = {str(k): TenantPolicy.model_validate(v or {}) for k, v in data.items()}
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            raise ConfigurationError(f"{path}: {where}: {err['msg']}") from None
        return cls(default, tenants)


# --- verification ----------------------------------------------------------------------------

METHOD_NAMES = {
    "otp_sms": "a texted code",
    "kba": "security questions",
    "pin": "PIN",
    "id_document": "ID document",
    "voice_biometrics": "voice print",
    "email_link": "an email link",
}
CHANNEL_NAMES = {"ivr": "IVR", "sms": "SMS", "web": "the web", "store": "a store"}


@dataclass(frozen=True)
class Check:
    """One identity check, wherever it was done."""

    method: str
    channel: str
    at: datetime
    result: str = "passed"
    source: str = "this conversation"


def ago(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes < 1:
        return "just now"
    if minutes < 60:
        return f"{minutes} minute{'s' if minutes != 1 else ''} ago"
    hours = minutes // 60
    if hours < 48:
        return f"{hours} hour{'s' if hours != 1 else ''} ago"
    return f"{hours // 24} days ago"


def verification_state(checks: list[Check], now: datetime, window: timedelta) -> VerificationState:
    """The newest check decides: passed and inside the window is verified; older is expired."""
    minutes = window.total_seconds() / 60
    usable = [c for c in checks if c.at <= now + timedelta(minutes=1)]  # no checks from the future
    if not usable:
        return VerificationState(
            status="none", window_minutes=minutes, text="not verified in this or a recent contact"
        )
    last = max(usable, key=lambda c: c.at)
    how = METHOD_NAMES.get(last.method, last.method.replace("_", " "))
    where = CHANNEL_NAMES.get(last.channel, last.channel)
    when = ago(now - last.at)
    if last.result != "passed":
        status, text = "failed", f"verification by {how} in {where} failed, {when}"
    elif now - last.at <= window:
        status, text = "verified", f"verified by {how} in {where}, {when}"
    else:
        status = "expired"
        text = f"verified by {how} in {where}, {when}: older than {minutes:g} minutes, ask again"
    return VerificationState(
        status=status,
        method=last.method,
        channel=last.channel,
        at=last.at,
        window_minutes=minutes,
        text=text,
        source=last.source,
    )


# --- touchpoints: the copilot's own sessions per customer ------------------------------------

metadata = MetaData()
touchpoints = Table(
    "touchpoints",
    metadata,
    Column("session_id", String(128), primary_key=True),
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

    def for_customer(self, customer_id: str, limit: int = 20) -> list[Touchpoint]:
        query = (
            select(touchpoints)
            .where(touchpoints.c.customer_id == customer_id)
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


# --- what was already provided, and what an agent asks for -----------------------------------

# What an agent's line asks for, by the field it would collect again. Questions only: "I have your
# phone number here" is not asking.
ASKS: dict[str, re.Pattern[str]] = {
    "phone": re.compile(
        r"\b(your|the)\s+(phone|mobile|cell|contact)(\s+number)?\b"
        r"|\bnumber (you're|you are) calling",
        re.I,
    ),
    "email": re.compile(r"\b(your|the)\s+e-?mail(\s+address)?\b", re.I),
    "account": re.compile(r"\b(your|the)\s+account\s+(number|id)\b", re.I),
    "order": re.compile(r"\b(your|the)\s+order\s+(number|id)\b", re.I),
    "identity": re.compile(
        r"\bverify\s+(your|you|the account|who)|\b(security|verification)\s+(question|code|pin)"
        r"|\bdate of birth\b|\blast four\b",
        re.I,
    ),
    "issue": re.compile(
        r"\bhow can i help\b|\bwhat can i (do|help)\b|\bwhat seems to be\b"
        r"|\bwhat('s| is) the (problem|issue)\b"
        r"|\bwhat are you (calling|contacting|writing) about\b",
        re.I,
    ),
}
_QUESTION = re.compile(
    r"\?|\b(can|could|may|would) (i|you)\b|\b(please )?(tell|give|confirm|provide|share)\b", re.I
)
FIELD_NAMES = {
    "phone": "phone number",
    "email": "email address",
    "account": "account number",
    "order": "order number",
    "identity": "identity check",
    "issue": "reason for contact",
}


def asked(text: str) -> list[str]:
    """The fields an agent's line asks the customer for."""
    if not _QUESTION.search(text):
        return []
    return [field for field, pattern in ASKS.items() if pattern.search(text)]


def provided_item(
    field: str, value: object, source: str, channel: str | None, event_id: str | None
) -> Provided:
    shown = str(value) if field in ("issue", "identity", "amount", "date") else mask(field, value)
    return Provided(field=field, value=shown, source=source, channel=channel, event_id=event_id)


def identity_item(check: VerificationState) -> Provided | None:
    """A verification that still holds, as something already provided; None otherwise."""
    if check.status != "verified":
        return None
    source = check.source or "earlier check"
    return Provided(field="identity", value=check.text, source=source, channel=check.channel)


def repeat_message(item: Provided) -> str:
    name = FIELD_NAMES.get(item.field, item.field.replace("_", " "))
    where = f" in {item.channel}" if item.channel else ""
    return (
        f"Already collected: {name} ({item.value}, from the {item.source}{where}). "
        "No need to ask again."
    )


# --- the journey: CRM interactions and the copilot's own sessions on one clock ----------------


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
