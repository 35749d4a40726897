"""What survives a restart and what a batch does, over the real log, systems and models."""

from __future__ import annotations

import asyncio
import itertools
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from copilot import card_models as cm
from copilot.actions import ActionLedger
from copilot.card_models import parse
from copilot.engine import Engine, EventConflict
from copilot.events import Event
from copilot.tenants import Policies, TenantPolicy
from copilot.touchpoints import TouchpointLog
from tests.conftest import FullEngine, shipped_engine
from tools.actions import WaiveLateFee
from tools.demo.stories import MARGARET
from tools.kb.embeddings import Embedder
from tools.sql import sql_systems

pytestmark = pytest.mark.anyio
T0 = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=30)
PHONE = "Hi, my bill is past due. My number is (415) 555-0101."
_ids = itertools.count()


def say(sid: str, text: str, at: float, speaker: str = "customer", **kw: Any) -> Event:
    return Event(
        event_id=f"d{next(_ids)}",
        session_id=sid,
        type=kw.pop("type", "utterance"),
        speaker=speaker,
        text=text,
        ts=T0 + timedelta(seconds=at),
        **kw,
    )


def customer(engine: Engine, sid: str) -> cm.CustomerData | None:
    """The identified customer's card; None while nobody is identified."""
    card = next((c for c in engine.panel(sid) if c.id == "customer"), None)
    if card is None:
        return None
    typed = parse(card)
    return typed.data if isinstance(typed.data, cm.CustomerData) else None


async def test_concurrent_first_events_after_a_restart_share_one_restored_session(
    full_engine: FullEngine, sessions_url: str
) -> None:
    url = sessions_url
    before = full_engine(url)
    for n, line in enumerate([PHONE, "I'm on autopay, why did this happen?"]):
        await before.handle(say("r1", line, n))
    restarted = full_engine(url)  # a new process on the same log
    lines = [say("r1", f"Line {n} of the rush.", 10 + n) for n in range(5)]
    updates = await asyncio.gather(*(restarted.handle(e) for e in lines))
    versions = sorted(u.version for u in updates if u is not None)
    assert versions == [3, 4, 5, 6, 7]  # one session, each event its own version
    _, version = await restarted.snapshot("r1")
    assert version == 7 and restarted.live("r1") is not None
    assert len(restarted.deps.store.events("r1")) == 7


async def test_panel_versions_only_grow_across_a_restart(
    full_engine: FullEngine, sessions_url: str
) -> None:
    url = sessions_url
    first = full_engine(url, actions=ActionLedger(url))
    await first.handle(say("v1", PHONE, 0))
    await first.handle(say("v1", "Can you take the late fee off?", 1))
    live = first.live("v1")
    assert live is not None and live.state.view is not None
    proposal = await first.add_proposal(
        live.state,
        WaiveLateFee(kind="waive_late_fee", account_number="BA90000001"),
        "test",
        "asked",
    )
    assert proposal is not None
    rejected = await first.decide("v1", proposal.action_id, approve=False, by="agent:bob")
    assert rejected is not None and rejected.version == 3  # a version without a logged event
    second = full_engine(url, actions=ActionLedger(url))
    _, version = await second.snapshot("v1")
    assert version == 3
    nxt = await second.handle(say("v1", "Thanks anyway.", 2))
    assert nxt is not None and nxt.version == 4  # a client resuming from 3 misses nothing


async def test_a_batch_with_a_reused_id_applies_none_of_it(
    full_engine: FullEngine, sessions_url: str
) -> None:
    engine = full_engine(sessions_url)
    sent = say("b1", PHONE, 0)
    await engine.handle(sent)
    _, version = await engine.snapshot("b1")
    fresh = say("b1", "I'm on autopay.", 1)
    reused = sent.model_copy(update={"text": "something else entirely"})
    with pytest.raises(EventConflict, match=sent.event_id):
        await engine.handle_all([fresh, reused])
    assert [e.event_id for e in engine.deps.store.events("b1")] == [sent.event_id]
    assert (await engine.snapshot("b1"))[1] == version  # nothing published, nothing moved
    again = await engine.handle_all([fresh, sent])  # the same again is a duplicate, fine
    assert again[0] is not None and again[1] is None


async def test_a_batch_sent_newest_first_costs_what_it_costs_in_order(
    data_dir: Path, demo_kb: Path, embedder: Embedder, models: Any, tmp_path: Path
) -> None:
    counted = Counting(embedder)
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = shipped_engine(url, sql_systems(data_dir), demo_kb, counted, models)  # type: ignore[arg-type]
    await engine.handle(say("n1", PHONE, 0))
    lines = [say("n1", f"Another thing, number {n}.", 100 + n, seq=None) for n in range(30)]
    counted.texts = 0
    acks = await engine.handle_all(list(reversed(lines)))
    # Each line embedded about once: folding the log again per late event embedded ~n^2/2.
    assert counted.texts <= 2 * len(lines) + 5, counted.texts
    assert all(a is not None for a in acks)
    log = [e.event_id for e in engine.deps.store.events("n1")]
    assert log[1:] == [e.event_id for e in lines]  # stored in conversation order
    versions = [a.version for a in acks if a is not None]
    assert versions == sorted(versions, reverse=True)  # acks in the order sent


async def test_a_lookup_that_failed_while_a_system_was_down_is_asked_again(
    full_engine: FullEngine, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 's.db'}"
    engine = full_engine(url, down=["crm"])
    healthy = full_engine(f"sqlite:///{tmp_path / 'other.db'}").deps.systems
    await engine.handle(say("g1", PHONE, 0))
    assert customer(engine, "g1") is None  # the CRM was down: nobody identified
    engine.deps.systems = healthy  # the CRM is back
    await engine.handle(say("g1", "Hello? Are you there?", 5))
    found = customer(engine, "g1")
    assert found is not None and found.customer_id == MARGARET


async def test_a_section_that_was_down_fills_in_once_its_system_is_back(
    full_engine: FullEngine, tmp_path: Path
) -> None:
    engine = full_engine(f"sqlite:///{tmp_path / 's.db'}", down=["billing"])
    healthy = full_engine(f"sqlite:///{tmp_path / 'other.db'}").deps.systems
    await engine.handle(say("h1", PHONE, 0))
    first = customer(engine, "h1")
    assert first is not None and any(d.startswith("billing") for d in first.degraded)
    engine.deps.systems = healthy
    await engine.handle(say("h1", "Can you see my bill now?", 30))
    now = customer(engine, "h1")
    assert now is not None and not now.degraded and now.accounts


class Counting:
    """The real embedder, counting the texts it is given."""

    def __init__(self, inner: Embedder) -> None:
        self.inner = inner
        self.texts = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.inner, name)

    def embed(self, texts: list[str]) -> Any:
        self.texts += len(texts)
        return self.inner.embed(texts)


async def test_a_tenant_that_masks_emails_keeps_them_out_and_still_knows_who_after_a_restart(
    full_engine: FullEngine, sessions_url: str
) -> None:
    url = sessions_url
    careful = TenantPolicy(mask_emails=True)
    wiring = {
        "policies": Policies(TenantPolicy(), {"careful": careful}),
        "tenant_of": lambda sid: "careful" if sid.startswith("m") else "plain",
    }
    engine = full_engine(url, touchpoints=TouchpointLog(url), **wiring)
    line = "My bill is past due. You can find me as Margaret.Chen@example.net"
    await engine.handle(say("m1", line, 0))
    await engine.handle(say("p1", line, 0))
    found = customer(engine, "m1")
    assert found is not None and found.customer_id == MARGARET  # identified from the raw text
    stored = engine.deps.store.events("m1")[0].text
    assert "Margaret.Chen@example.net" not in stored and "[email]" in stored
    assert "Margaret.Chen@example.net" in engine.deps.store.events("p1")[0].text  # not this one
    panel = json.dumps([c.model_dump(mode="json") for c in engine.panel("m1")])
    assert "Margaret.Chen@example.net" not in panel and "margaret.chen@example.net" not in panel
    restarted = full_engine(url, touchpoints=TouchpointLog(url), **wiring)
    await restarted.snapshot("m1")
    again = customer(restarted, "m1")
    assert again is not None and again.customer_id == MARGARET
    assert again.standing == "identified, not verified"


async def test_a_check_made_for_the_identified_customer_is_still_theirs_after_a_restart(
    full_engine: FullEngine, sessions_url: str
) -> None:
    """The log masks the email that identified her, so after a restart only the touchpoint
    says who she is; the code she passed is hers again, and nobody else's check becomes hers."""
    url = sessions_url
    wiring = {
        "policies": Policies(TenantPolicy(), {"careful": TenantPolicy(mask_emails=True)}),
        "tenant_of": lambda sid: "careful",
    }
    engine = full_engine(url, touchpoints=TouchpointLog(url), **wiring)
    await engine.handle(say("v1", "My bill is past due. I'm Margaret.Chen@example.net", 0))
    code = {"verified_by": "otp_sms"}  # made once she was identified: hers
    await engine.handle(say("v1", "", 5, speaker="system", type="metadata", data=code))
    found = customer(engine, "v1")
    assert found is not None and found.standing == "verified"
    # Another conversation: a check naming no contact, then the same email typed.
    await engine.handle(
        say("v2", "", 0, speaker="system", type="metadata", data={"verified_by": "pin"})
    )
    await engine.handle(say("v2", "My bill is past due. I'm Margaret.Chen@example.net", 5))
    other = customer(engine, "v2")
    assert other is not None and other.customer_id == MARGARET
    assert other.standing == "identified, not verified"
    restarted = full_engine(url, touchpoints=TouchpointLog(url), **wiring)
    for sid, standing in (("v1", "verified"), ("v2", "identified, not verified")):
        await restarted.snapshot(sid)
        again = customer(restarted, sid)
        assert again is not None and again.customer_id == MARGARET
        assert again.standing == standing, sid


async def test_a_code_sent_again_is_the_same_event_not_a_conflict(
    full_engine: FullEngine, sessions_url: str
) -> None:
    engine = full_engine(sessions_url)
    ask = say("c1", "I've texted you a code, could you type it here?", 0, speaker="agent")
    code = say("c1", "It's 402931", 1)
    await engine.handle(ask)
    assert await engine.handle(code) is not None
    assert "402931" not in engine.deps.store.events("c1")[1].text
    # A retry is cleaned where it first came (after the prompt), so it matches what is stored.
    assert await engine.handle(code) is None
    assert await engine.handle_all([ask, code]) == [None, None]


async def test_two_workers_on_one_log_take_a_session_in_turn_and_lose_nothing(
    full_engine: FullEngine, sessions_url: str
) -> None:
    one, two = full_engine(sessions_url), full_engine(sessions_url)
    lines = [PHONE, "I'm on autopay.", "Why was it declined?", "Ok.", "Thanks.", "Bye."]
    acks = []
    for n, line in enumerate(lines):  # a load balancer sending each event anywhere
        worker = one if n % 2 == 0 else two
        acks.append(await worker.handle(say("w2", line, n)))
    assert [a.version for a in acks if a is not None] == [1, 2, 3, 4, 5, 6]
    for worker in (one, two):  # each reads the whole conversation, whoever applied it
        _, version = await worker.snapshot("w2")
        live = worker.live("w2")
        assert version == 6 and live is not None and len(live.state.turns) == 6
        assert customer(worker, "w2") is not None
    both = await asyncio.gather(
        one.handle(say("w2", "One more thing.", 10)), two.handle(say("w2", "And another.", 11))
    )
    assert sorted(u.version for u in both if u is not None) == [7, 8]
    # The first worker goes away mid-conversation; the second carries on from the log.
    del one
    last = await two.handle(say("w2", "Still there?", 12))
    assert last is not None and last.version == 9
    assert len(two.deps.store.events("w2")) == 9
