"""The session log: ordered, idempotent, and still there after a restart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from copilot.event_log import SessionStore
from copilot.events import Event

T0 = datetime(2026, 11, 24, 10, 0, tzinfo=UTC)


def ev(event_id: str, seconds: int, text: str = "hi", **kw: object) -> Event:
    return Event(
        event_id=event_id,
        session_id="s1",
        type="utterance",
        text=text,
        ts=T0 + timedelta(seconds=seconds),
        **kw,
    )


def test_same_event_twice_changes_nothing(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    first = store.append(ev("e1", 0))
    again = store.append(ev("e1", 0))
    assert not first.duplicate and again.duplicate and not again.conflict
    changed = store.append(ev("e1", 0, text="something else"))
    assert changed.duplicate and changed.conflict
    assert [e.text for e in store.events("s1")] == ["hi"]


def test_late_events_are_placed_by_time_and_sequence(tmp_path: Path) -> None:
    store = SessionStore(f"sqlite:///{tmp_path / 's.db'}")
    store.append(ev("e1", 0))
    store.append(ev("e3", 20))
    late = store.append(ev("e2", 10))
    assert late.late
    assert [e.event_id for e in store.events("s1")] == ["e1", "e2", "e3"]
    seq = SessionStore(f"sqlite:///{tmp_path / 'q.db'}")
    for event_id, n in (("b", 2), ("a", 1), ("c", 3)):
        seq.append(ev(event_id, 0, seq=n))
    assert [e.event_id for e in seq.events("s1")] == ["a", "b", "c"]


def test_channel_switch_and_restart(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    store = SessionStore(url)
    store.append(ev("e1", 0, channel="chat"))
    store.append(
        Event(
            event_id="sw",
            session_id="s1",
            type="channel_switch",
            speaker="system",
            channel="voice",
            ts=T0 + timedelta(seconds=5),
        )
    )
    store.append(ev("e2", 9, channel="voice", text="it's me again on the phone"))
    reopened = SessionStore(url)
    events = reopened.events("s1")
    assert [(e.event_id, e.channel) for e in events] == [
        ("e1", "chat"),
        ("sw", "voice"),
        ("e2", "voice"),
    ]
    assert events[0].ts == T0 and reopened.sessions() == ["s1"]


def test_timestamps_keep_their_instant() -> None:
    local = datetime(2026, 11, 24, 12, 0, tzinfo=timezone(timedelta(hours=2)))
    assert ev("x", 0).model_copy(update={"ts": local}).ts.tzinfo is not None
    assert Event(event_id="x", session_id="s", type="metadata", ts=local).ts == T0


@pytest.mark.parametrize(
    "bad",
    [
        {"event_id": "", "session_id": "s", "type": "utterance"},
        {"event_id": "a b", "session_id": "s", "type": "utterance"},
        {"event_id": "e", "session_id": "../etc", "type": "utterance"},
        {"event_id": "e", "session_id": "s", "type": "shout"},
        {"event_id": "e", "session_id": "s", "type": "utterance", "speaker": "hacker"},
        {"event_id": "e", "session_id": "s", "type": "utterance", "text": "x" * 10_001},
        {"event_id": "e", "session_id": "s", "type": "utterance", "data": {"k": "v" * 30_000}},
        {"event_id": "e", "session_id": "s", "type": "utterance", "extra": 1},
    ],
)
def test_malformed_events_are_rejected(bad: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        Event.model_validate({"ts": T0, **bad})
