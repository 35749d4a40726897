"""The storage seam: one Protocol per table family on the sessions database.

The embedded default implements each in SQLAlchemy over one URL: copilot.event_log.SessionStore,
copilot.actions.ActionLedger, copilot.offers.OfferLedger, copilot.touchpoints.TouchpointLog,
copilot.session_registry.SessionRegistry, copilot.handoff_intake.HandoffStore and
copilot.llm.ledger.CallLedger. Another backend implements these Protocols in one module and
hands them to the composition root. The engine and its stages depend on these Protocols only.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from copilot.actions import ActionStatus, Proposal
    from copilot.event_log import Appended
    from copilot.events import Event
    from copilot.offers.gate import OfferHistory, OfferStatus
    from copilot.touchpoints import Touchpoint


class EventLog(Protocol):
    """The session log: ordered, idempotent, redacted events."""

    def append(self, event: Event) -> Appended:
        """Store one event; the same event_id again changes nothing (duplicate=True)."""
        ...

    def events(self, session_id: str) -> list[Event]:
        """The session's events in conversation order."""
        ...

    def sessions(self) -> list[str]: ...


class ProposalLog(Protocol):
    """Write actions proposed in sessions, and who decided them."""

    def propose(self, proposal: Proposal) -> bool: ...

    def decide(
        self, action: str, status: ActionStatus, by: str | None, result: str | None = None
    ) -> None: ...

    def session(self, session_id: str) -> list[Proposal]: ...


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


class TouchpointStore(Protocol):
    """One row per copilot session that identified its customer."""

    def record(self, point: Touchpoint) -> None: ...

    def for_customer(self, customer_id: str, limit: int = 20) -> list[Touchpoint]: ...
