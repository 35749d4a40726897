"""Hostile and careless input over real HTTP: a 4xx naming the field, nothing stored, nothing
leaked across tenants or roles."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.conftest import bearer
from tests.server.conftest import serving_shipped
from tools.demo.stories import MARGARET

PHONE_TURN = "Hi, my bill is past due. My number is (415) 555-0101."


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving_shipped(request, "hardening") as url:
        yield url


def client(url: str, role: str) -> httpx.Client:
    return httpx.Client(base_url=url, headers=bearer(role), timeout=30)


def new_session(c: httpx.Client) -> str:
    r = c.post("/v1/sessions", json={"channel": "chat"})
    assert r.status_code == 201, r.text
    return str(r.json()["session_id"])


def utterance(event_id: str, text: str, **extra: Any) -> dict[str, Any]:
    return {"event_id": event_id, "type": "utterance", "text": text, **extra}


def version(c: httpx.Client, sid: str) -> int:
    return int(c.get(f"/v1/sessions/{sid}/panel").json()["version"])


def refused(r: httpx.Response, status: int, field: str) -> None:
    assert r.status_code == status, r.text
    assert field in r.json()["error"]["message"], r.text
    assert "Traceback" not in r.text


def sessions_in_journey(c: httpx.Client, customer_id: str) -> set[str]:
    r = c.get(f"/v1/customers/{customer_id}/journey")
    assert r.status_code == 200, r.text
    return {e["source"] for e in r.json()["entries"] if e["kind"] == "session"}


def test_another_tenants_sessions_never_reach_a_journey_or_a_panel(served: str) -> None:
    with client(served, "agent") as a, client(served, "other") as b:
        mine = new_session(a)
        assert a.post(f"/v1/sessions/{mine}/events", json=utterance("t1", PHONE_TURN)).is_success
        pin: dict[str, Any] = {"event_id": "t2", "type": "metadata", "speaker": "system"}
        pin["data"] = {"verified_by": "pin"}
        assert a.post(f"/v1/sessions/{mine}/events", json=pin).is_success
        assert f"session:{mine}" in sessions_in_journey(a, MARGARET)
        theirs = new_session(b)
        # B's channel even names A's session as the verified contact: still no link.
        link: dict[str, Any] = {"event_id": "u1", "type": "metadata", "speaker": "system"}
        link["data"] = {"verified_contact": mine}
        assert b.post(f"/v1/sessions/{theirs}/events", json=link).is_success
        assert b.post(f"/v1/sessions/{theirs}/events", json=utterance("u2", PHONE_TURN)).is_success
        assert f"session:{mine}" not in sessions_in_journey(b, MARGARET)
        panel = b.get(f"/v1/sessions/{theirs}/panel").text
        assert mine not in panel and "verified by PIN" not in panel


def test_keys_in_urls_are_for_streams_only_and_qa_reads_no_customer(served: str) -> None:
    key = bearer("agent")["Authorization"].removeprefix("Bearer ")
    with client(served, "agent") as a:
        sid = new_session(a)
    with httpx.Client(base_url=served, timeout=10) as anon:
        r = anon.get(f"/v1/sessions/{sid}/panel", params={"access_token": key})
        assert r.status_code == 401 and "stream routes only" in r.json()["error"]["message"]
        with anon.stream("GET", f"/v1/sessions/{sid}/stream", params={"access_token": key}) as s:
            assert s.status_code == 200  # an EventSource cannot send headers
    with client(served, "qa") as qa:
        assert qa.get(f"/v1/customers/{MARGARET}/journey").status_code == 403
        assert qa.get(f"/v1/customers/{MARGARET}/360").status_code == 403
        assert qa.get(f"/v1/sessions/{sid}/panel").status_code == 200  # QA reviews sessions


@pytest.mark.parametrize("ts", ["9999-12-31T23:59:59Z", "0001-01-01T00:00:00+05:00"])
def test_times_off_the_calendar_are_refused_and_the_session_lives_on(served: str, ts: str) -> None:
    with client(served, "agent") as c:
        sid = new_session(c)
        refused(c.post(f"/v1/sessions/{sid}/events", json=utterance("x1", "hi", ts=ts)), 400, "ts")
        batch = {"events": [utterance("x2", "fine"), utterance("x3", "late", ts=ts)]}
        refused(c.post(f"/v1/sessions/{sid}/events:batch", json=batch), 400, "ts")
        ahead = utterance("x4", "from tomorrow", ts="2099-06-01T00:00:00Z")
        refused(c.post(f"/v1/sessions/{sid}/events", json=ahead), 400, "ahead")
        assert version(c, sid) == 0  # nothing stored
        ok = c.post(f"/v1/sessions/{sid}/events", json=utterance("x5", PHONE_TURN))
        assert ok.status_code == 202 and ok.json()["version"] == 1
    with client(served, "bot") as bot:
        line = {"speaker": "customer", "text": "hello", "ts": ts}
        r = bot.post("/v1/handoffs", json={"handoff_id": f"far-{ts[:4]}", "transcript": [line]})
        refused(r, 422, "transcript.0.ts")
        check = {"method": "pin", "channel": "ivr", "at": ts}
        r = bot.post("/v1/handoffs", json={"handoff_id": f"far-v{ts[:4]}", "verification": check})
        refused(r, 422, "verification.at")


def test_numbers_past_64_bits_and_odd_digits_are_refused(served: str) -> None:
    with client(served, "agent") as c:
        sid = new_session(c)
        huge = utterance("n1", "hi", seq=2**64)
        refused(c.post(f"/v1/sessions/{sid}/events", json=huge), 400, "seq")
        feedback = {"card_id": "summary", "card_version": 2**64, "verdict": "accepted"}
        refused(c.post(f"/v1/sessions/{sid}/feedback", json=feedback), 400, "card_version")
        for seen in ("\u0661\u0662".encode(), b"9" * 5000, b"-1"):
            r = c.get(f"/v1/sessions/{sid}/stream", headers={b"Last-Event-ID": seen})
            refused(r, 400, "Last-Event-ID")
        r = c.get(f"/v1/sessions/{sid}/stream", params={"last_event_id": "9" * 5000})
        refused(r, 400, "last_event_id")
        assert version(c, sid) == 0

    def ws_close(since: str) -> tuple[int, str]:
        key = bearer("agent")["Authorization"].removeprefix("Bearer ")
        url = served.replace("http://", "ws://") + f"/v1/sessions/{sid}/ws"
        with (
            connect(f"{url}?access_token={key}&last_event_id={since}", open_timeout=10) as ws,
            pytest.raises(ConnectionClosed) as closed,
        ):
            ws.recv(timeout=10)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code, closed.value.rcvd.reason

    for since in ("9" * 5000, "%D9%A1"):
        code, reason = ws_close(since)
        assert code == 4400 and "last_event_id" in reason


def test_a_batch_is_all_or_nothing_and_a_reused_id_says_so(served: str) -> None:
    with client(served, "agent") as c:
        sid = new_session(c)
        first = c.post(f"/v1/sessions/{sid}/events", json=utterance("a1", PHONE_TURN))
        assert first.status_code == 202
        batch = {"events": [utterance("a2", "I'm on autopay."), utterance("a1", "other words")]}
        r = c.post(f"/v1/sessions/{sid}/events:batch", json=batch)
        assert r.status_code == 409 and r.json()["error"]["code"] == "event_conflict"
        assert "a1" in r.json()["error"]["message"]
        assert version(c, sid) == 1  # a2 was not applied either
        again = c.post(f"/v1/sessions/{sid}/events", json=utterance("a1", PHONE_TURN))
        assert again.status_code == 202 and again.json()["duplicate"] is True


def test_a_chunked_body_over_the_limit_is_a_413(served: str) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(40):
            yield b"x" * 8192

    with client(served, "agent") as c:
        sid = new_session(c)
        r = c.post(f"/v1/sessions/{sid}/events", content=chunks())
        assert r.status_code == 413 and r.json()["error"]["code"] == "too_large"
        assert version(c, sid) == 0


def test_ten_copies_of_one_handoff_at_once_make_one_session(served: str) -> None:
    body = {
        "handoff_id": "rush-1",
        "customer": {"phone": "(415) 555-0101"},
        "transcript": [{"speaker": "customer", "text": "My bill is past due, get me a person."}],
    }
    with client(served, "agent") as agent:
        before = sessions_in_journey(agent, MARGARET)
        known = {s["session_id"] for s in agent.get("/v1/sessions?state=all&limit=500").json()}

    async def rush() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=served, headers=bearer("bot"), timeout=60) as bot:
            return await asyncio.gather(*(bot.post("/v1/handoffs", json=body) for _ in range(10)))

    answers = asyncio.run(rush())
    assert sorted(r.status_code for r in answers) == [200] * 9 + [201]
    assert len({r.json()["session_id"] for r in answers}) == 1
    assert all(r.json()["packet"] is None for r in answers)  # a bot reads nothing back
    with client(served, "agent") as agent:
        added = sessions_in_journey(agent, MARGARET) - before
        assert added == {f"session:{answers[0].json()['session_id']}"}
        made = agent.get("/v1/sessions?state=all&limit=500").json()
        assert [s["session_id"] for s in made if s["session_id"] not in known] == [
            answers[0].json()["session_id"]
        ]  # no orphan session, not even a closed one


def test_data_and_feedback_are_masked_before_they_are_kept_or_shown(served: str) -> None:
    card, national = "4111 1111 1111 1111", "123-45-6789"
    with client(served, "agent") as c:
        sid = new_session(c)
        note: dict[str, Any] = {"event_id": "m1", "type": "metadata", "speaker": "system"}
        note["data"] = {"note": f"caller read out {card}", "nested": [{"ssn": national}]}
        assert c.post(f"/v1/sessions/{sid}/events", json=note).status_code == 202
        result: dict[str, Any] = {"event_id": "m2", "type": "action_result", "speaker": "system"}
        result["data"] = {
            "action": "take_payment",
            "status": "failed",
            "message": f"{card} declined",
        }
        assert c.post(f"/v1/sessions/{sid}/events", json=result).status_code == 202
        assert c.post(f"/v1/sessions/{sid}/events", json=utterance("m3", PHONE_TURN)).is_success
        feedback = {"card_id": "summary", "card_version": 1, "verdict": "edited"}
        feedback["text"] = f"customer said {card}, ssn {national}"
        kept = c.post(f"/v1/sessions/{sid}/feedback", json=feedback)
        assert kept.status_code == 201
        shown = kept.text + c.get(f"/v1/sessions/{sid}/feedback").text
        shown += c.get(f"/v1/sessions/{sid}/panel").text
        assert card not in shown and card.replace(" ", "") not in shown and national not in shown
        assert "[card ending 1111]" in c.get(f"/v1/sessions/{sid}/feedback").text
