"""The secure payment form's result reaching a session: billing keeps the card, the session
gets only its token (which a proposed autopay update then uses).
"""

from __future__ import annotations

from datetime import UTC, datetime

from copilot.engine import Engine
from copilot.events import Event
from copilot.panel import PanelUpdate
from tools.actions import CardDetails, PaymentMethod, PaymentMethodEntry
from tools.errors import ConfigurationError, InvalidInput

# What the form hands back: brand, last four and expiry; card data is refused by name.
SecureForm = CardDetails


async def from_secure_form(
    engine: Engine, session_id: str, form: SecureForm, event_id: str, at: datetime | None = None
) -> tuple[PaymentMethod, PanelUpdate | None]:
    """Register the card for the session's customer and tell the session its token."""
    await engine.snapshot(session_id)  # the session is live (restored from its log if need be)
    live = engine.live(session_id)
    view = live.state.view if live is not None else None
    accounts = (view.billing.data or []) if view is not None else []
    if not accounts:
        raise InvalidInput("session", "no identified customer with a billing account yet")
    runner = (engine.deps.systems_for(live.state) if live else engine.deps.systems).actions
    if runner is None:
        raise ConfigurationError("no system can register payment methods here")
    entry = PaymentMethodEntry(
        account_number=accounts[0].account.account_number, **form.model_dump()
    )
    method = await runner.register_payment_method(entry)
    channels = live.state.channels if live is not None else []
    update = await engine.handle(
        Event(
            event_id=event_id,
            session_id=session_id,
            type="metadata",
            speaker="system",
            channel=channels[-1][0] if channels else "chat",
            ts=at or datetime.now(UTC),
            data={"payment_method": method.token},
        )
    )
    return method, update
