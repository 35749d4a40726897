"""`copilot bench soak`: the counting of lost, duplicated and regressed, without a server."""

from __future__ import annotations

from evals.bench import soak


def ack(
    event_id: str, sid: str = "s1", duplicate: bool = False, version: int | None = 1, at: float = 0
) -> soak.Ack:
    return soak.Ack(event_id, sid, duplicate, None if duplicate else version, 5.0, at, at)


def test_lost_is_acknowledged_but_not_stored() -> None:
    sent = ["e1", "e2", "e3", "e4"]
    acks = [ack("e1"), ack("e2"), ack("e3", duplicate=True)]
    stored = [("s1", "e1"), ("s1", "e3"), ("s1", "e4"), ("s1", "not-ours")]
    t = soak.tally(sent, acks, stored)
    assert (t.sent, t.acknowledged, t.acked_duplicate, t.never_acked) == (4, 3, 1, 1)
    assert (t.stored, t.lost, t.stored_unacked) == (3, 1, 1)  # e2 lost; e4 stored, never acked
    assert t.duplicated == t.applied_twice == t.stored_twice == 0


def test_a_retry_answered_as_duplicate_is_not_a_duplicate_but_two_fresh_acks_are() -> None:
    acks = [ack("e1", version=1), ack("e1", duplicate=True), ack("e2", version=2)]
    acks += [ack("e2", version=3)]  # e2 applied twice
    stored = [("s1", "e1"), ("s1", "e2"), ("s2", "e1")]  # e1 in two rows
    t = soak.tally(["e1", "e2"], acks, stored)
    assert (t.applied_twice, t.stored_twice, t.duplicated, t.lost) == (1, 1, 2, 0)


def test_versions_below_the_log_regressed_or_falling_are_named() -> None:
    acks = [
        ack("a1", "s1", version=1, at=1),
        ack("a2", "s1", version=2, at=2),
        ack("a3", "s1", version=1, at=12),  # after the kill, below what was acked before it
        ack("b1", "s2", version=1, at=1),
        ack("b2", "s2", version=2, at=11),
    ]
    stored = [("s1", "a1"), ("s1", "a2"), ("s1", "a3"), ("s2", "b1"), ("s2", "b2")]
    panels: dict[str, int | None] = {"s1": 1, "s2": 5, "s3": None}
    v = soak.check_versions(acks, panels, stored, mark=10)
    assert v.regressed == ["s1"] and v.backwards == ["s1"]
    assert v.below_stored == ["s1"] and v.unread == ["s3"]
    assert soak.check_versions(acks[3:], {"s2": 2}, stored[3:], mark=None) == soak.Versions(
        [], [], [], []
    )


def test_plan_spreads_fixed_ids_round_robin_in_order() -> None:
    items = soak.plan(10, 3)
    assert [len(s) for s in items] == [4, 3, 3]
    assert [e for e, _ in items[0]] == ["soak-0000", "soak-0003", "soak-0006", "soak-0009"]
    speakers = [b["speaker"] for _, b in items[1]]
    assert speakers == ["customer", "agent", "customer"]
    assert all(b["event_id"] == e and b["type"] == "utterance" for s in items for e, b in s)
