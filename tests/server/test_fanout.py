"""Live fan-out through a real Redis: two workers' broadcasters on one Redis, as two processes
behind a load balancer would have them."""

from __future__ import annotations

import asyncio
import contextlib
import re
import threading
import time
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.actions import ActionLedger, Proposal
from copilot.engine import Engine
from copilot.event_log import Stale
from copilot.events import Event
from copilot.lease import SessionBusy
from copilot.panel import PanelUpdate, StreamItem, TokenDelta
from copilot.settings import Settings
from copilot.systems import build_systems
from evals.bench import load
from evals.bench.soak import ServeProcess
from server.app import create_app
from server.fanout import RedisBroadcaster
from tests.conftest import SYSTEMS_TOKEN, FullEngine, api_keys, bearer
from tests.server.conftest import copied_settings
from tools.actions import WaiveLateFee
from tools.base import Systems
from tools.services import start_apps, start_services

pytestmark = pytest.mark.anyio
PHONE_TURN = "My bill is past due, my number is (415) 555-0101."


def update(sid: str, version: int) -> PanelUpdate:
    return PanelUpdate(
        session_id=sid,
        version=version,
        event_id=f"e{version}",
        cards=[],
        latency_ms=1.0,
        source="fast",
    )


async def take(items: AsyncGenerator[StreamItem, None], n: int) -> list[StreamItem]:
    out: list[StreamItem] = []
    async with asyncio.timeout(10):
        async for item in items:
            out.append(item)
            if len(out) == n:
                break
    return out


def versions(items: list[StreamItem]) -> list[int]:
    return [i.version for i in items if isinstance(i, PanelUpdate)]


async def test_a_subscriber_on_another_worker_gets_every_update_once_in_order(
    redis_url: str,
) -> None:
    applies, serves = RedisBroadcaster(redis_url), RedisBroadcaster(redis_url)
    try:
        sid = "fan-1"
        await applies(update(sid, 1))
        items = serves.follow(sid, None, [], 1)  # a first connection: the snapshot at 1
        first = await take(items, 1)
        assert [i.event_id for i in first if isinstance(i, PanelUpdate)] == ["snapshot"]
        assert serves.subscribers() == 1
        await applies(update(sid, 1))  # already in the snapshot: not sent again
        await applies(TokenDelta(session_id=sid, field="summary", text="Hel", event_id="e2"))
        for v in (2, 3, 4):
            await applies(update(sid, v))
        live = await take(items, 4)
        assert isinstance(live[0], TokenDelta) and versions(live) == [2, 3, 4]
        await items.aclose()
        assert serves.subscribers() == 0
        # Reconnecting with Last-Event-ID 2 on either worker replays 3 and 4 only.
        again = await take(applies.follow(sid, 2, [], 4), 2)
        assert versions(again) == [3, 4]
    finally:
        await applies.aclose()
        await serves.aclose()


async def test_a_gap_the_stream_no_longer_holds_gets_one_snapshot(redis_url: str) -> None:
    small = RedisBroadcaster(redis_url, keep=5)
    try:
        sid = "fan-2"
        for v in range(1, 301):
            await small(update(sid, v))
        got = await take(small.follow(sid, 3, [], 300), 1)
        assert [(i.event_id, i.version) for i in got if isinstance(i, PanelUpdate)] == [
            ("snapshot", 300)
        ]
    finally:
        await small.aclose()


async def test_closing_a_session_ends_its_subscribers_on_every_worker(redis_url: str) -> None:
    a, b = RedisBroadcaster(redis_url), RedisBroadcaster(redis_url)
    try:
        sid = "fan-3"
        items = b.follow(sid, None, [], 0)
        await take(items, 1)  # the snapshot
        started = datetime.now(UTC)
        await a.forget(sid)
        async with asyncio.timeout(5):
            rest = [i async for i in items]
        assert rest == [] and (datetime.now(UTC) - started).total_seconds() < 5
        assert [i async for i in b.follow(sid, None, [], 0)] == []  # closed: nothing to follow
        b.close()  # a worker stopping ends its own subscribers within a read's wait
        other = b.follow("fan-4", None, [], 0)
        assert [i async for i in other] == []
    finally:
        await a.aclose()
        await b.aclose()


def test_copilot_serve_with_two_workers_streams_every_update_once_in_order(
    data_dir: Path, demo_kb: Path, tmp_path: Path, redis_url: str
) -> None:
    server = ServeProcess(
        data_dir, demo_kb, tmp_path, ["--workers", "2"], {"COPILOT_REDIS_URL": redis_url}
    )
    server.spawn()
    try:
        asyncio.run(server.ready(time.monotonic() + load.READY_S))
        auth = {"Authorization": f"Bearer {load.KEY}"}
        base = server.base
        workers: set[int] = set()
        deadline = time.monotonic() + 60
        while len(workers) < 2 and time.monotonic() < deadline:  # each on a new connection
            r = httpx.get(f"{base}/readyz")
            if r.status_code == 200:
                assert r.json()["redis"] == "ok"
                workers.add(r.json()["worker"])
        assert len(workers) == 2  # two processes answer on the one port, each ready
        sid = httpx.post(f"{base}/v1/sessions", json={}, headers=auth).json()["session_id"]
        seen: list[int] = []
        lines = [PHONE_TURN, *(f"Detail number {n}." for n in range(1, 12))]

        def follow() -> None:
            with httpx.stream("GET", f"{base}/v1/sessions/{sid}/stream", headers=auth) as r:
                for line in r.iter_lines():
                    if line.startswith("id: "):
                        seen.append(int(line[4:]))
                        if seen[-1] == len(lines):
                            return

        listener = threading.Thread(target=follow, daemon=True)
        listener.start()
        time.sleep(1.0)
        acks = []
        for n, text in enumerate(lines):  # each on a new connection: either worker takes it
            body = {"event_id": f"k{n}", "type": "utterance", "text": text}
            r = httpx.post(f"{base}/v1/sessions/{sid}/events", json=body, headers=auth)
            assert r.status_code == 202, r.text
            acks.append(r.json()["version"])
        listener.join(20)
        assert acks == list(range(1, len(lines) + 1))  # one session, versions in order
        assert seen == list(range(0, len(lines) + 1))  # the snapshot, then each update once
        panel = httpx.get(f"{base}/v1/sessions/{sid}/panel", headers=auth).json()
        assert panel["version"] == len(lines)
        # Ten copies of one handoff spread over both workers make one session, and no orphan:
        # the loser waits on the handoff's lease instead of building a session to throw away.
        before = {s["session_id"] for s in _sessions(base, auth)}

        async def rush() -> list[httpx.Response]:
            body = {
                "handoff_id": "two-worker-rush",
                "transcript": [{"speaker": "customer", "text": PHONE_TURN}],
            }
            async with httpx.AsyncClient(base_url=base, headers=auth, timeout=60) as c:
                return await asyncio.gather(*(c.post("/v1/handoffs", json=body) for _ in range(10)))

        answers = asyncio.run(rush())
        assert sorted(r.status_code for r in answers) == [200] * 9 + [201]
        made = {s["session_id"] for s in _sessions(base, auth)} - before
        assert made == {answers[0].json()["session_id"]}  # not even a closed one
        # Either worker's /metrics holds both workers' series, each under its own label.
        labelled: set[str] = set()
        deadline = time.monotonic() + 20
        while len(labelled) < 2 and time.monotonic() < deadline:
            text = httpx.get(f"{base}/metrics").text
            labelled = set(re.findall(r'^copilot_events_total\{worker="([^"]+)"\}', text, re.M))
            time.sleep(0.5)
        assert len(labelled) == 2, text
        assert {w.rsplit(":", 1)[1] for w in labelled} == {str(w) for w in workers}
        assert text.count("# TYPE copilot_events_total counter") == 1
        assert server.stop(grace=15)  # both workers stop
    finally:
        server.kill()


def _sessions(base: str, auth: dict[str, str]) -> list[dict[str, str]]:
    r = httpx.get(f"{base}/v1/sessions?state=all&limit=500", headers=auth)
    assert r.status_code == 200
    sessions: list[dict[str, str]] = r.json()
    return sessions


def say(sid: str, n: int) -> Event:
    text = PHONE_TURN if n == 0 else f"Detail number {n}."
    at = datetime.now(UTC) - timedelta(minutes=10) + timedelta(seconds=n)
    return Event(event_id=f"{sid}-{n}", session_id=sid, type="utterance", text=text, ts=at)


@contextlib.asynccontextmanager
async def two_workers(
    full_engine: FullEngine,
    url: str,
    redis_url: str,
    second_publishes: bool = True,
    actions: bool = False,
    systems: tuple[Systems, Systems] | None = None,
) -> AsyncIterator[tuple[RedisBroadcaster, Engine, Engine]]:
    """Two engines on one sessions database and one Redis, each publishing through its own
    broadcaster (the second not at all when it is to die before publishing), each with its
    own action ledger on the database when asked, and each its own of `systems` when given
    (closed at the end)."""
    a, b = RedisBroadcaster(redis_url), RedisBroadcaster(redis_url)
    extra: list[dict[str, Any]] = [{"systems": x} for x in systems] if systems else [{}, {}]
    one, two = (
        full_engine(
            url,
            lease=x.lease(),
            **({"actions": ActionLedger(url)} if actions else {}),
            **more,
        )
        for x, more in zip((a, b), extra, strict=True)
    )
    one.subscribe(a)
    if second_publishes:
        two.subscribe(b)
    try:
        yield a, one, two
    finally:
        await a.aclose()
        await b.aclose()
        for built in systems or ():
            await built.aclose()


async def test_two_workers_apply_a_session_in_turn_under_its_lease(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str
) -> None:
    sid = f"lease-{uuid.uuid4().hex[:8]}"
    async with two_workers(full_engine, postgres_sessions, redis_url) as (a, one, two):
        items = a.follow(sid, None, [], 0)
        assert versions(await take(items, 1)) == [0]  # the snapshot of an empty panel
        # A load balancer spraying one conversation's events over both workers at once.
        acks = await asyncio.gather(
            *((one if n % 2 else two).handle(say(sid, n)) for n in range(24))
        )
        assert sorted(u.version for u in acks if u is not None) == list(range(1, 25))
        assert len(one.deps.store.events(sid)) == 24
        # Under a lease that never lapsed, a worker catches its copy up before appending, so
        # the log never has to refuse one (retries would run out when the workers keep trading).
        assert (one.refused, two.refused) == (0, 0)
        assert one.rereads + two.rereads > 0  # they did trade the session
        # Every subscriber sees every version once and in order, whoever applied it.
        seen = versions(await take(items, 24))
        assert seen == list(range(1, 25))
        await items.aclose()


async def test_an_update_a_worker_stored_but_never_published_reaches_subscribers(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str
) -> None:
    sid = f"gap-{uuid.uuid4().hex[:8]}"
    workers = two_workers(full_engine, postgres_sessions, redis_url, second_publishes=False)
    async with workers as (a, one, gone):
        items = a.follow(sid, None, [], 0)
        assert versions(await take(items, 1)) == [0]
        await one.handle(say(sid, 0))
        assert (await gone.handle(say(sid, 1))) is not None  # version 2, on no stream
        await one.handle(say(sid, 2))  # one's copy was at 1: it catches up from the log
        got = await take(items, 3)
        assert versions(got) == [1, 2, 3]  # no gap where the dead worker's update was
        whole = got[1]
        assert isinstance(whole, PanelUpdate) and whole.source == "restore"
        assert {c.type for c in whole.cards} >= {"summary", "mood"}  # the whole panel at 2
        await items.aclose()


async def test_a_resuming_subscriber_gets_a_version_republished_on_catch_up_once(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str
) -> None:
    sid = f"once-{uuid.uuid4().hex[:8]}"
    async with two_workers(full_engine, postgres_sessions, redis_url) as (a, one, two):
        await one.handle(say(sid, 0))
        await two.handle(say(sid, 1))  # published by two; one's copy is behind
        await one.handle(say(sid, 2))  # one catches up, republishing 2, then applies 3
        cards, version = await one.snapshot(sid)
        resumed = a.follow(sid, 1, cards, version)  # a client back with Last-Event-ID 1
        got = await take(resumed, 2)
        assert versions(got) == [2, 3]
        await resumed.aclose()


async def fee_proposed(engine: Engine, sid: str) -> Proposal:
    """The customer's first turn on `engine`, then waiving the late fee proposed to the agent."""
    await engine.handle(say(sid, 0))
    live = engine.live(sid)
    assert live is not None and live.state.view is not None
    fee = WaiveLateFee(kind="waive_late_fee", account_number="BA90000001")
    proposal = await engine.add_proposal(live.state, fee, "test", "asked")
    assert proposal is not None
    return proposal


async def test_a_decision_on_a_worker_whose_copy_is_behind_lands_on_the_latest_version(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str
) -> None:
    sid = f"decide-{uuid.uuid4().hex[:8]}"
    workers = two_workers(full_engine, postgres_sessions, redis_url, actions=True)
    async with workers as (_, one, two):
        proposal = await fee_proposed(one, sid)
        await two.handle(say(sid, 1))  # one's copy is now behind
        # The agent rejects on one while the conversation goes on through the other.
        decided, *acks = await asyncio.gather(
            one.decide(sid, proposal.action_id, approve=False, by="agent:bob"),
            *(two.handle(say(sid, n)) for n in range(2, 8)),
        )
        assert decided is not None
        shown = sorted([decided.version] + [u.version for u in acks if u is not None])
        assert shown == list(range(3, 10))  # one version each, none refused or lost
        assert (one.refused, two.refused) == (0, 0)
        assert one.deps.actions is not None
        assert one.deps.actions.session(sid)[0].status == "rejected"
        cards, version = await two.snapshot(sid)
        assert version == 9
        assert [c.data["status"] for c in cards if c.type == "action"] == ["rejected"]


async def test_an_action_that_fails_while_another_worker_moves_on_is_marked_on_the_latest_copy(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str, data_copy: Path
) -> None:
    sid = f"fails-{uuid.uuid4().hex[:8]}"
    # The deciding worker reaches billing over HTTP, slowly: the other worker goes on with the
    # conversation while the approved action is still running there.
    with start_services(data_copy, latency_ms=400, token=SYSTEMS_TOKEN) as slow:
        rest = Settings(
            backend="rest",
            crm_api_url=slow.urls["crm"],
            billing_api_url=slow.urls["billing"],
            orders_api_url=slow.urls["orders"],
            systems_token=SYSTEMS_TOKEN,
        )
        pair = (build_systems(rest), build_systems(Settings(data_dir=data_copy, backend="sql")))
        workers = two_workers(full_engine, postgres_sessions, redis_url, actions=True, systems=pair)
        async with workers as (_, one, two):
            proposal = await fee_proposed(one, sid)
            assert proposal.blocked is None
            # The fee is waived in billing some other way before the agent's approval runs.
            elsewhere = pair[1].actions
            assert elsewhere is not None
            await elsewhere.perform("waived-elsewhere", proposal.request, approved_by="agent:eve")
            deciding = asyncio.create_task(
                one.decide(sid, proposal.action_id, approve=True, by="agent:bob")
            )
            assert one.deps.actions is not None
            async with asyncio.timeout(10):  # approved, and now running in billing
                while one.deps.actions.session(sid)[0].status != "approved":
                    assert not deciding.done(), deciding.result()
                    await asyncio.sleep(0.01)
            acks = await asyncio.gather(*(two.handle(say(sid, n)) for n in range(1, 7)))
            decided = await deciding
            assert decided is not None
            assert [c.data["status"] for c in decided.cards if c.type == "action"] == ["failed"]
            # The failure is published after the six events, not on a version one of them has.
            assert [u.version for u in acks if u is not None] == list(range(2, 8))
            assert decided.version == 8
            (kept,) = one.deps.actions.session(sid)
            assert kept.status == "failed" and "no late fee left to waive" in (kept.result or "")
            cards, version = await two.snapshot(sid)
            assert version == 8
            assert [c.data["status"] for c in cards if c.type == "action"] == ["failed"]


async def test_a_session_another_worker_holds_waits_for_it_then_is_busy(
    full_engine: FullEngine, postgres_sessions: str, redis_url: str
) -> None:
    a, b = RedisBroadcaster(redis_url), RedisBroadcaster(redis_url)
    lease, other = a.lease(wait_s=0.5), b.lease()
    one = full_engine(postgres_sessions, lease=lease)
    sid = f"busy-{uuid.uuid4().hex[:8]}"
    try:
        async with other.hold(sid):
            started = time.monotonic()
            with pytest.raises(SessionBusy):
                await one.handle(say(sid, 0))
            assert time.monotonic() - started >= 0.4  # it waited about wait_s
        assert one.deps.store.events(sid) == []  # a busy session keeps nothing of the attempt
        held = asyncio.Event()

        async def hold_briefly() -> None:
            async with other.hold(sid):
                held.set()
                await asyncio.sleep(0.2)

        holder = asyncio.create_task(hold_briefly())
        await held.wait()
        update = await one.handle(say(sid, 0))  # waits for the other worker, then applies
        await holder
        assert update is not None and update.version == 1
        assert lease.waits == 2
        # The other worker applies the next event: this worker's copy is now behind, and
        # holding the session says so instead of letting it write over the newer version.
        two = full_engine(postgres_sessions, lease=b.lease())
        assert (await two.handle(say(sid, 1))) is not None
        live = one.live(sid)
        assert live is not None
        with pytest.raises(Stale):
            async with one.hold(live):
                pass
        assert one.live(sid) is None  # dropped: the next use reads it again from the log
        _, version = await one.snapshot(sid)
        assert version == 2
    finally:
        await a.aclose()
        await b.aclose()


async def test_a_lease_that_runs_out_while_held_lets_another_worker_in(redis_url: str) -> None:
    a, b = RedisBroadcaster(redis_url), RedisBroadcaster(redis_url)
    short, other = a.lease(ttl_s=0.2), b.lease(wait_s=2)
    try:
        async with short.hold("lapse-1"), asyncio.timeout(2), other.hold("lapse-1"):
            pass  # got in once the first lease ran out, without its holder letting go
        assert short.lapsed == 1 and other.waits == 1
        async with short.hold("lapse-1"):  # released cleanly: free again at once
            pass
        assert short.lapsed == 1
    finally:
        await a.aclose()
        await b.aclose()


def test_a_worker_whose_redis_is_gone_is_not_ready(
    request: pytest.FixtureRequest, tmp_path: Path
) -> None:
    data_dir, demo_kb = request.getfixturevalue("data_dir"), request.getfixturevalue("demo_kb")
    gone = "redis://127.0.0.1:9/0"  # nothing listens on the discard port
    settings = copied_settings(data_dir, demo_kb, tmp_path).model_copy(update={"redis_url": gone})
    app = create_app(settings, keys=api_keys())
    with start_apps({"copilot": app}) as running:
        url = running.urls["copilot"]
        deadline = time.monotonic() + 120
        body = httpx.get(f"{url}/readyz").json()
        while body["engine"] != "ready" and time.monotonic() < deadline:
            time.sleep(0.2)
            body = httpx.get(f"{url}/readyz").json()
        r = httpx.get(f"{url}/readyz")
        assert r.status_code == 503 and r.json()["redis"] == "unreachable"
        assert r.json()["status"] == "degraded"
        assert httpx.get(f"{url}/healthz").status_code == 200  # alive, just not ready
        auth = bearer("agent")
        sid = httpx.post(f"{url}/v1/sessions", json={}, headers=auth).json()["session_id"]
        body = {"event_id": "r1", "type": "utterance", "text": PHONE_TURN}
        r = httpx.post(f"{url}/v1/sessions/{sid}/events", json=body, headers=auth)
        assert r.status_code == 503 and r.json()["error"]["code"] == "system_unavailable"
        assert "lease" in r.json()["error"]["message"]
        panel = httpx.get(f"{url}/v1/sessions/{sid}/panel", headers=auth).json()
        assert panel["version"] == 0  # nothing applied without the lease
