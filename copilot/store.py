"""The storage seam: one Protocol per table family on the sessions database.

The embedded default implements each in SQLAlchemy over one URL: copilot.event_log.SessionStore,
copilot.actions.ActionLedger, copilot.offers.OfferLedger, copilot.touchpoints.TouchpointLog,
copilot.session_registry.SessionRegistry, copilot.handoff_intake.HandoffStore and
copilot.llm.ledger.CallLedger. Another backend implements these Protocols in one module and
hands them to the composition root. The engine and its stages depend on these Protocols only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol, runtime_checkable

if TYPE_CHECKING:
    from copilot.actions import ActionStatus, Proposal
    from copilot.event_log import Appended
    from copilot.events import Event
    from copilot.handoff import HandoffPacket
    from copilot.offers.gate import OfferHistory, OfferStatus
    from copilot.session_registry import Feedback, SessionInfo, Verdict
    from copilot.touchpoints import Touchpoint


@runtime_checkable
class EventLog(Protocol):
    """The session log: ordered, idempotent, redacted events, and each session's panel version."""

    def append(self, event: Event, at: int | None = None) -> Appended:
        """Store one event; the same event_id again changes nothing (duplicate=True)."""
        ...

    def append_all(self, batch: list[Event], at: int | None = None) -> list[Appended]:
        """Store a session's events atomically; none when one conflicts with a stored one.
        at: the caller's panel version; the version reached is kept in the same commit, and a
        session another writer moved past `at` raises copilot.event_log.Stale, storing nothing."""
        ...

    def discard(self, session_id: str, event_ids: list[str]) -> None:
        """Take back events whose fold failed."""
        ...

    def save_version(self, session_id: str, version: int) -> None: ...

    def version(self, session_id: str) -> int:
        """The highest panel version kept for the session (0 if none): versions only grow."""
        ...

    def events(self, session_id: str) -> list[Event]:
        """The session's events in conversation order."""
        ...

    def sessions(self) -> list[str]: ...


@runtime_checkable
class ProposalLog(Protocol):
    """Write actions proposed in sessions, and who decided them."""

    def propose(self, proposal: Proposal) -> bool: ...

    def decide(
        self, action: str, status: ActionStatus, by: str | None, result: str | None = None
    ) -> None: ...

    def session(self, session_id: str) -> list[Proposal]: ...


@runtime_checkable
class OfferLog(Protocol):
    """Offers shown, accepted and dismissed, per session."""

    def record(
        self,
        session_id: str,
        customer_id: str,
        offer_id: str,
        status: OfferStatus,
        event_id: str,
        at: datetime,
    ) -> bool: ...

    def history(self, session_id: str) -> OfferHistory: ...


@runtime_checkable
class TouchpointStore(Protocol):
    """One row per copilot session that identified its customer."""

    def record(self, point: Touchpoint) -> None: ...

    def forget(self, session_id: str) -> None: ...

    def get(self, session_id: str) -> Touchpoint | None: ...

    def for_customer(
        self, customer_id: str, tenant: str | None, limit: int = 20
    ) -> list[Touchpoint]:
        """The customer's sessions in this tenant (None: sessions without a tenant) only."""
        ...


@runtime_checkable
class SessionDirectory(Protocol):
    """Which sessions exist, whose tenant each is, who closed it, and the agents' feedback."""

    def create(
        self, tenant: str, channel: str, created_by: str, session_id: str | None = None
    ) -> SessionInfo: ...

    def get(self, session_id: str) -> SessionInfo: ...

    def sessions(
        self, tenant: str, open_only: bool = False, limit: int = 100
    ) -> list[SessionInfo]: ...

    def close(self, session_id: str, by: str) -> SessionInfo: ...

    def give_feedback(
        self,
        session_id: str,
        card_id: str,
        card_version: int,
        verdict: Verdict,
        text: str | None,
        by: str,
    ) -> Feedback: ...

    def feedback(self, session_id: str) -> list[Feedback]: ...


@runtime_checkable
class HandoffLog(Protocol):
    """Handoff packets per (tenant, handoff_id): a retry gets the first one back."""

    def save(self, tenant: str, packet: HandoffPacket) -> HandoffPacket: ...

    def find(self, tenant: str, handoff_id: str) -> HandoffPacket | None: ...

    def get(self, tenant: str, handoff_id: str) -> HandoffPacket: ...
