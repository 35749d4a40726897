"""The embedded backend implements every storage Protocol of copilot/store.py on one database."""

from __future__ import annotations

from pathlib import Path

from copilot import store
from copilot.actions import ActionLedger
from copilot.event_log import SessionStore
from copilot.handoff_intake import HandoffStore
from copilot.offers import OfferLedger
from copilot.session_registry import SessionRegistry
from copilot.touchpoints import TouchpointLog


def test_the_sql_stores_implement_the_protocols_on_one_url(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"
    # Annotated assignments: mypy (in `make test`) checks each against its Protocol.
    events: store.EventLog = SessionStore(url)
    proposals: store.ProposalLog = ActionLedger(url)
    offers: store.OfferLog = OfferLedger(url)
    points: store.TouchpointStore = TouchpointLog(url)
    directory: store.SessionDirectory = SessionRegistry(url)
    handoffs: store.HandoffLog = HandoffStore(url)
    pairs = [
        (events, store.EventLog),
        (proposals, store.ProposalLog),
        (offers, store.OfferLog),
        (points, store.TouchpointStore),
        (directory, store.SessionDirectory),
        (handoffs, store.HandoffLog),
    ]
    for implementation, protocol in pairs:
        assert isinstance(implementation, protocol), (implementation, protocol)
    # One database holds them all: a session made in the directory has an empty log there.
    info = directory.create("brightwave", "chat", "agent one")
    assert events.events(info.session_id) == [] and proposals.session(info.session_id) == []
    assert handoffs.find("brightwave", "nope") is None
