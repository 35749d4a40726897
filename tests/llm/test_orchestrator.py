"""The LLM path end to end: the real openai client and LangChain talk HTTP to a fake on loopback."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import prompts
from copilot import card_models as cm
from copilot.engine import Engine
from copilot.events import Event
from copilot.llm.assist import LlmEnricher
from copilot.llm.orchestrator import TOOL_RESULT_CHARS
from copilot.llm.provider import LlmConfig
from copilot.panel import PanelUpdate, StreamItem, TokenDelta
from copilot.payments import SecureForm, from_secure_form
from copilot.testing import model_like
from copilot.testing.fake_openai import Call, FakeOpenAI, Reply
from tests.card_data import D, data
from tests.llm.conftest import Build

PHONE_TURN = "Hi, I got an email saying my bill is past due. My number is (415) 555-0101."
HISTORY_TURN = PHONE_TURN + " Last time I called you said autopay was fine."
START = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


def utter(n: int, text: str, speaker: str = "customer", session: str = "s1") -> Event:
    return Event(
        event_id=f"{session}-{n}",
        session_id=session,
        type="utterance",
        speaker=speaker,
        text=text,
        ts=START + timedelta(seconds=n),
    )


def verify(engine: Engine, session: str = "s1") -> None:
    """The channel verified the customer (a texted code to their phone) before the first line."""
    check = Event(
        event_id=f"{session}-verified",
        session_id=session,
        type="metadata",
        speaker="system",
        ts=START,
        data={"verified_by": "otp_sms", "phone": "+14155550101"},
    )
    asyncio.run(engine.handle(check))


def new_card(engine: Engine, session: str = "s1") -> None:
    """The customer enters a new card in the secure payment form; the session gets its token."""
    form = SecureForm(brand="Visa", last4="4242", exp_month=3, exp_year=2031)
    at = START + timedelta(seconds=1.5)
    asyncio.run(from_secure_form(engine, session, form, f"{session}-card", at))


async def turn(engine: Engine, event: Event) -> list[StreamItem]:
    """Send one event and wait for the slow path; what was streamed, in order."""
    seen: list[StreamItem] = []

    async def listen(item: StreamItem) -> None:
        seen.append(item)

    stop = engine.subscribe(listen)
    await engine.handle(event)
    await engine.settle(event.session_id)
    stop()
    return seen


def card(engine: Engine, session: str, card_id: str, kind: type[D]) -> D:
    """The data of a card on the session's panel now, as its typed model."""
    return data(next((c for c in engine.panel(session) if c.id == card_id), None), kind)


def actions(engine: Engine, session: str) -> dict[str, cm.ActionData]:
    """The session's action cards by kind."""
    found = [data(c, cm.ActionData) for c in engine.panel(session) if c.type == "action"]
    return {a.kind: a for a in found}


def cards_call(**fields: Any) -> Reply:
    body = {"summary": "Customer reports a past-due bill; autopay failed.", **fields}
    return Reply(calls=[Call("write_cards", body)])


def bodies(fake: FakeOpenAI) -> str:
    return json.dumps(fake.requests)


def test_tool_loop_feeds_results_back_and_the_cards_land(build: Build) -> None:
    script = [
        Reply(calls=[Call("customer_history", {"limit": 5})]),
        cards_call(
            next_action={"step_id": "explain-cause", "rationale": "Autopay failed: card expired."},
            reply_draft="Your autopay card expired, so the payment did not go through.",
        ),
    ]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, HISTORY_TURN)))
        fake.assert_done()
    first, second = fake.requests
    assert first["tool_choice"] == "auto"
    # "Last time I called": the history tool is bound; what the facts hold needs no tool. The
    # cards are not a tool: the endpoint takes them as a JSON object (response_format).
    assert {t["function"]["name"] for t in first["tools"]} == {"customer_history"}
    tool_results = [m for m in second["messages"] if m["role"] == "tool"]
    assert "interaction_id" in tool_results[0]["content"]  # the tool really read the CRM
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    assert nba.next is not None and nba.next.step == "explain-cause"
    assert nba.rationale == "Autopay failed: card expired."
    reply = card(engine, "s1", "reply_draft", cm.ReplyDraftData).text
    assert reply is not None and reply.startswith("Your autopay card expired")
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def test_a_turn_the_facts_cover_sends_no_data_tools_and_one_request(build: Build) -> None:
    with FakeOpenAI([cards_call()]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    (only,) = fake.requests
    names = {t["function"]["name"] for t in only.get("tools", [])}
    assert names <= {"search_knowledge"}  # no CRM, billing or orders tool


def other_customer(own_data: Path) -> tuple[str, str]:
    with sqlite3.connect(own_data / "billing.db") as db:
        account, customer = db.execute(
            "select account_number, crm_customer_id from accounts "
            "where crm_customer_id != 'CUS-9000001' limit 1"
        ).fetchone()
    return str(account), str(customer)


def test_tools_refuse_any_other_customer_whatever_the_conversation_says(
    build: Build, own_data: Path
) -> None:
    account, customer = other_customer(own_data)
    with FakeOpenAI([cards_call()]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.script.append(Reply(calls=[Call("billing_account", {"account_number": account})]))
        fake.script.append(cards_call())
        asyncio.run(turn(engine, utter(2, f"Also look up account {account}, it is my son's")))
        fake.assert_done()
    asked = {t["function"]["name"] for t in fake.requests[1]["tools"]}
    assert "billing_account" in asked  # a number not in the facts: the tool is offered
    refusals = [m["content"] for b in fake.requests for m in b["messages"] if m["role"] == "tool"]
    assert len(refusals) == 1 and refusals[0].startswith("refused:")
    assert customer not in bodies(fake)  # not even the other customer's id reached the model


def test_no_pii_in_any_request_body(build: Build) -> None:
    secrets = ["4111 1111 1111 1111", "123-45-6789", "hunter22", "margaret.c@example.com"]
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        said = (
            "Charge my card 4111 1111 1111 1111 instead, my SSN is 123-45-6789, "
            "my password is hunter22 and my email is margaret.c@example.com"
        )
        asyncio.run(turn(engine, utter(2, said)))
    sent = bodies(fake)
    assert len(fake.requests) >= 2
    for secret in secrets:
        assert secret not in sent, secret
    assert "415" not in sent and "555-0101" not in sent  # the phone number, in any form


@pytest.mark.parametrize(
    ("script", "config", "why"),
    [
        ([Reply(status=500), Reply(status=500)], {"max_retries": 1}, "HTTP 500"),
        ([Reply(status=429), Reply(status=429)], {"max_retries": 1}, "HTTP 429"),
        ([Reply(delay_s=1.5)], {"timeout_s": 0.3}, "Timeout"),
        (
            [Reply(calls=[Call("write_cards", '{"summary": ')])] * 2,
            {},
            "malformed write_cards JSON twice",
        ),
        (
            [Reply(calls=[Call("write_cards", {"reply_draft": "no summary"})])] * 2,
            {},
            "summary: Field required",
        ),
    ],
    ids=["5xx", "429", "timeout", "bad-json", "bad-schema"],
)
def test_each_fault_falls_back_to_the_offline_cards_and_loses_nothing(
    build: Build, script: list[Reply], config: dict[str, Any], why: str
) -> None:
    with FakeOpenAI(script) as fake:
        engine = build(fake.url, **config)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.llm is not None and summary.llm.status == "fallback"
    assert why in (summary.llm.reason or "")
    assert summary.prose_source is None  # the offline prose stands
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    assert nba.next is not None and nba.llm is not None and nba.llm.status == "fallback"
    assert card(engine, "s1", "reply_draft", cm.ReplyDraftData).text is None
    assert [e.event_id for e in engine.deps.store.events("s1")] == ["s1-1"]


def test_a_model_that_is_down_leaves_the_offline_engine_working(build: Build) -> None:
    engine = build("http://127.0.0.1:9/v1")
    asyncio.run(turn(engine, utter(1, PHONE_TURN)))
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.llm is not None and summary.llm.status == "fallback"
    assert "Connection" in (summary.llm.reason or "")
    assert card(engine, "s1", "customer", cm.CustomerData).customer_id == "CUS-9000001"


def test_one_malformed_answer_is_fed_back_once_then_accepted(build: Build) -> None:
    script = [
        Reply(text="Let me look at this."),  # prose: the cards are asked for as JSON
        Reply(calls=[Call("write_cards", "{summary: not json}")]),  # written as that text
        cards_call(),
    ]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    repair = fake.requests[2]["messages"][-1]
    assert repair["role"] == "user" and "JSON object again" in repair["content"]
    assert fake.requests[2]["messages"][-2] == {
        "role": "assistant",
        "content": "{summary: not json}",
    }
    assert fake.requests[2]["response_format"]["json_schema"]["name"] == "write_cards"
    note = card(engine, "s1", "summary", cm.SummaryData).llm
    assert note is not None and note.status == "ok"


def test_one_malformed_call_is_fed_back_once_then_accepted(build: Build) -> None:
    script = [Reply(calls=[Call("write_cards", "{summary: not json}")]), cards_call()]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url, structured="tools")
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    repair = fake.requests[1]["messages"][-1]
    assert repair["role"] == "tool" and "could not be used" in repair["content"]
    assert fake.requests[1]["tool_choice"]["function"]["name"] == "write_cards"
    assert all("response_format" not in b for b in fake.requests)
    note = card(engine, "s1", "summary", cm.SummaryData).llm
    assert note is not None and note.status == "ok"


@pytest.mark.parametrize("structured", ["auto", "tools"])
def test_a_model_that_answers_in_prose_is_asked_again_for_the_cards(
    build: Build, structured: str
) -> None:
    script = [Reply(text="Sure! The customer seems upset about a bill."), cards_call()]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url, structured=structured)
        asyncio.run(turn(engine, utter(1, HISTORY_TURN)))
        fake.assert_done()
    assert fake.requests[0]["tool_choice"] == "auto"
    again = fake.requests[1]
    if structured == "tools":
        assert again["tool_choice"] == {"type": "function", "function": {"name": "write_cards"}}
    else:  # the cards as a JSON object the schema constrains, the look-ups no longer offered
        assert "tools" not in again and "tool_choice" not in again
        schema = again["response_format"]["json_schema"]
        assert schema["name"] == "write_cards" and "summary" in schema["schema"]["properties"]
        assert "maxLength" not in json.dumps(schema)
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def test_an_endpoint_that_refuses_the_schema_is_asked_with_tools_from_then_on(
    build: Build,
) -> None:
    """An older server answers 400 to response_format json_schema: the same turn asks for a
    forced tool call instead, and later turns offer the cards as a tool, never the schema."""
    script = [Reply(text="Let me look at this."), cards_call(), cards_call()]
    with FakeOpenAI(script, json_schema=False) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        asyncio.run(turn(engine, utter(2, "Ten years on autopay, why now?")))
        fake.assert_done()
    asked = [("response_format" in b, b.get("tool_choice")) for b in fake.requests]
    named = {"type": "function", "function": {"name": "write_cards"}}
    assert asked == [(False, "auto"), (True, None), (False, named), (False, named)]
    assert "write_cards" in {t["function"]["name"] for t in fake.requests[-1]["tools"]}
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.llm is not None and summary.llm.status == "ok"
    assert summary.prose_source == "llm"


def test_llama_server_without_schema_or_named_choice_still_writes_the_cards(
    build: Build,
) -> None:
    """llama.cpp refuses an object tool_choice; here it refuses the schema too, and writes the
    call as JSON in its text: the loop learns both refusals once and reads the call."""
    call = json.dumps({"name": "write_cards", "arguments": {"summary": "Past-due bill."}})
    script = [Reply(text="Let me look at this."), Reply(text=f"```json\n{call}\n```")]
    with FakeOpenAI(script, json_schema=False, named_choice=False) as fake:
        engine = build(fake.url, structured="json_schema")
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    named = {"type": "function", "function": {"name": "write_cards"}}
    assert [("response_format" in b, b.get("tool_choice")) for b in fake.requests] == [
        (False, "auto"),
        (True, None),
        (False, named),
        (False, "required"),
    ]
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose == "Past-due bill." and summary.prose_source == "llm"


def test_policy_rejects_what_it_must_and_the_panel_says_why(build: Build) -> None:
    bad = cards_call(
        next_action={"step_id": "give-refund-now", "rationale": "Because."},
        offer={"offer_id": "unlimited-upgrade", "pitch": "Upgrade!"},
        citations=["made-up-article#0"],
        reply_draft="Your card 4111 1111 1111 1111 is on file.",
    )
    with FakeOpenAI([bad]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    assert nba.llm is not None and nba.llm.status == "rejected"
    assert "not in the playbook" in (nba.llm.reason or "")
    assert nba.rationale is None and nba.next is not None  # the playbook's own step stands
    offer = card(engine, "s1", "offer", cm.OfferData)
    assert offer.llm is not None and offer.llm.status == "rejected"
    assert "not allowed now" in (offer.llm.reason or "")
    assert offer.pitch is None
    knowledge = card(engine, "s1", "knowledge", cm.KnowledgeData)
    assert knowledge.llm is not None and "no retrieved passage" in (knowledge.llm.reason or "")
    reply = card(engine, "s1", "reply_draft", cm.ReplyDraftData)
    assert reply.text is None and "card data" in (reply.reason or "")
    # The good part still lands.
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def sent_cards_schema(body: dict[str, Any]) -> dict[str, Any] | None:
    """The write_cards schema a request offered: as its response_format, or as a tool."""
    if "response_format" in body:
        found: dict[str, Any] = body["response_format"]["json_schema"]["schema"]
        return found
    for tool in body.get("tools", []):
        if tool["function"]["name"] == "write_cards":
            params: dict[str, Any] = tool["function"]["parameters"]
            return params
    return None


def test_a_proposed_action_takes_the_engines_inputs_not_the_models(build: Build) -> None:
    """A small model leaves the account out, makes a payment token up, adds an input the action
    does not take: the engine's own inputs (the account the step is about, the secure form's
    token) stand, and the stray one is dropped. Before the customer gives a
    new card, updating autopay is not offered at all, and a proposal of it anyway is refused for
    that reason, not because the account would be someone else's (it is hers)."""
    loose = {"payment_method": "pm_made_up", "description": "new card"}  # an input it lacks
    made_up = {"kind": "update_autopay", "arguments": loose, "why": "x"}
    with FakeOpenAI([cards_call(actions=[made_up]), cards_call(actions=[made_up])]) as fake:
        engine = build(fake.url, structured="tools")  # write_cards in every request's tools
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
        new_card(engine)
        asyncio.run(turn(engine, utter(2, "Your autopay card expired.", speaker="agent")))
        fake.assert_done()
    first, second = (sent_cards_schema(b) for b in fake.requests)
    assert first is not None and second is not None
    assert "update_autopay" not in json.dumps(first.get("properties", {}).get("actions", {}))
    kinds = second["properties"]["actions"]["items"]["properties"]["kind"]["enum"]
    assert "update_autopay" in kinds
    assert nba.llm is not None and nba.llm.status == "rejected", nba.llm
    assert "it waits for the new payment method, from the secure payment form" in (
        nba.llm.reason or ""
    )
    assert "not this customer's" not in (nba.llm.reason or "")
    proposed = actions(engine, "s1")["update_autopay"]
    request = proposed.request.model_dump()
    assert request["account_number"] == "BA90000001"
    assert request["payment_method"].startswith("pm_") and request["payment_method"] != (
        "pm_made_up"
    )


def test_tokens_and_cost_are_counted_per_turn_and_conversation_and_capped(build: Build) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url, price_in=1.0, price_out=2.0, budget_tokens=100_000)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        asyncio.run(turn(engine, utter(2, "I'm looking into it now.", speaker="agent")))
        assert isinstance(engine.enricher, LlmEnricher)
        llm = engine.enricher.llm
        assert llm.ledger is not None
        calls = llm.ledger.calls("s1")
        usage = card(engine, "s1", "summary", cm.SummaryData).usage
        assert usage is not None
        latest = f"turn.v{max(prompts.catalogue()['turn'])}"
        assert [c["prompt"] for c in calls] == [latest, latest]
        assert sum(c["prompt_tokens"] for c in calls) == fake.prompt_tokens
        assert usage.conversation.prompt_tokens == fake.prompt_tokens
        assert usage.turn.prompt_tokens == calls[-1]["prompt_tokens"]
        expected = (fake.prompt_tokens * 1.0 + fake.completion_tokens * 2.0) / 1e6
        assert usage.conversation.cost_usd == pytest.approx(expected, abs=1e-6)
        assert len(fake.requests) == 2
        # A budget already spent: the next turn sends nothing and the panel says why.
        llm.config = LlmConfig(**{**llm.config.__dict__, "budget_tokens": 1000})
        asyncio.run(turn(engine, utter(3, "Why did autopay fail?")))
        assert len(fake.requests) == 2
    note = card(engine, "s1", "summary", cm.SummaryData).llm
    assert note is not None and note.status == "fallback" and "budget" in (note.reason or "")


def test_the_summary_is_incremental_and_tokens_stream(build: Build) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url, context_tokens=400)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        asyncio.run(turn(engine, utter(2, "Let me check that for you.", speaker="agent")))
        streamed = asyncio.run(turn(engine, utter(3, "Ten years on autopay, why now?")))
    last = fake.requests[-1]["messages"][1]["content"]
    new_turns = last.split("NEW TURNS SINCE THAT SUMMARY", 1)[1]
    previous = last.split("PREVIOUS SUMMARY", 1)[1].split("NEW TURNS", 1)[0]
    assert "Ten years on autopay" in new_turns
    assert "past due" not in new_turns  # turn 1 is in the summary, not sent again
    assert "past due" in previous
    deltas = [i for i in streamed if isinstance(i, TokenDelta) and i.field == "summary"]
    updates = [i for i in streamed if isinstance(i, PanelUpdate)]
    assert [u.source for u in updates] == ["fast", "llm"]
    assert len(deltas) > 1
    assert "".join(d.text for d in deltas) == card(engine, "s1", "summary", cm.SummaryData).prose


def test_a_burst_of_events_is_coalesced_into_fewer_model_turns(build: Build) -> None:
    async def burst(engine: Engine) -> None:
        await engine.handle(utter(1, PHONE_TURN))
        for n in range(2, 6):
            await engine.handle(utter(n, f"And another thing, number {n}."))
        await engine.settle("s1")

    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url, coalesce_ms=300)
        asyncio.run(burst(engine))
    assert 1 <= len(fake.requests) <= 2  # five events, at most two model turns
    assert "number 5" in fake.requests[-1]["messages"][1]["content"]


def test_write_actions_run_only_when_an_agent_approves_and_say_who(
    build: Build, own_data: Path
) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        new_card(engine)
        asyncio.run(turn(engine, utter(2, "Your autopay card expired.", speaker="agent")))
        proposed = actions(engine, "s1")["update_autopay"]
        assert proposed.needs_approval is True
        with sqlite3.connect(own_data / "billing.db") as db:
            before = db.execute(
                "select status from autopay_mandates where account_number='BA90000001'"
            ).fetchone()
        assert before == ("failed",)  # proposed is not done
        action = proposed.action_id
        update = asyncio.run(engine.decide("s1", action, approve=True, by="agent:alice"))
        asyncio.run(engine.settle("s1"))
    assert update is not None
    done = actions(engine, "s1")["update_autopay"]
    assert done.status == "done" and done.decided_by == "agent:alice"
    with sqlite3.connect(own_data / "billing.db") as db:
        after = db.execute(
            "select status from autopay_mandates where account_number='BA90000001'"
        ).fetchone()
    assert after == ("active",)
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    steps = {s.id: s.status for s in nba.steps}
    assert steps["update-card"] == "done"
    log = engine.deps.store.events("s1")
    assert log[-1].type == "action_result" and log[-1].data["approved_by"] == "agent:alice"
    with pytest.raises(Exception, match="already done"):
        asyncio.run(engine.decide("s1", action, approve=True, by="agent:alice"))


def test_a_rejected_action_writes_nothing(build: Build, own_data: Path) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        new_card(engine)
        asyncio.run(turn(engine, utter(2, "Your autopay card expired.", speaker="agent")))
        proposed = next(iter(actions(engine, "s1").values()))
        asyncio.run(engine.decide("s1", proposed.action_id, approve=False, by="agent:bob"))
    decided = actions(engine, "s1")[proposed.kind]
    assert decided.status == "rejected" and decided.decided_by == "agent:bob"
    with sqlite3.connect(own_data / "billing.db") as db:
        status = db.execute(
            "select status from autopay_mandates where account_number='BA90000001'"
        ).fetchone()
    assert status == ("failed",)
    assert all(e.type != "action_result" for e in engine.deps.store.events("s1"))


def test_ask_the_copilot_searches_then_answers_with_a_real_citation(build: Build) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        answer = asyncio.run(engine.ask("s1", "How do I update an expired autopay card?"))
    assert answer.status == "ok" and answer.answer
    assert answer.citations and "#" in answer.citations[0]
    ask = fake.requests[-2]
    assert ask["tools"] and "THE AGENT ASKS" in ask["messages"][1]["content"]
    assert fake.requests[-1]["messages"][-1]["role"] == "tool"  # the search result went back


def test_json_in_the_text_instead_of_a_tool_call_is_still_used(build: Build) -> None:
    as_text = Reply(text='Here you go: {"summary": "Past-due bill; autopay card expired."}')
    with FakeOpenAI([as_text]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose == "Past-due bill; autopay card expired."


def test_a_call_written_in_the_text_fenced_and_wrapped_is_the_same_call(build: Build) -> None:
    """llama.cpp's server: no tool_calls, the call as JSON in the text, look-ups included."""
    lookup = '```json\n{"name": "customer_history", "arguments": {"limit": 5}}\n```'
    finish = {"summary": "Asked about the last call; autopay card expired.", "reply_draft": ""}
    call = json.dumps({"name": "write_cards", "arguments": finish})
    wrapped = f"I will write the cards now.\n```json\n{call}\n```"
    with FakeOpenAI([Reply(text=lookup), Reply(text=wrapped)]) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, HISTORY_TURN)))
        fake.assert_done()
    tool_results = [m for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert tool_results and "interaction_id" in tool_results[0]["content"]  # the CRM was read
    said = [m for m in fake.requests[1]["messages"] if m["role"] == "assistant"][-1]
    assert said["tool_calls"][0]["function"]["name"] == "customer_history"
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose == finish["summary"] and summary.prose_source == "llm"


def test_names_repeated_in_every_streamed_delta_make_one_call(build: Build) -> None:
    """llama-cpp-python's server: LangChain alone would call 'write_cardswrite_cards...'."""
    reply = cards_call()
    reply.repeat_names = True
    with FakeOpenAI([reply]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose_source == "llm" and summary.llm is not None
    assert summary.llm.status == "ok"


def test_the_schema_sent_has_no_string_bounds_and_they_hold_after_parsing(build: Build) -> None:
    """A grammar engine cannot build maxLength 1500 into rules; the bound is checked on the
    parsed call instead, and an over-long summary is sent back once to be fixed."""
    too_long = cards_call(summary="word " * 400)
    with FakeOpenAI([too_long, cards_call()]) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    sent = json.dumps([fake.requests[0]["tools"], fake.requests[1]["response_format"]])
    assert "maxLength" not in sent and "write_cards" in sent
    repair = fake.requests[1]["messages"][-1]
    assert repair["role"] == "tool" and "summary" in repair["content"]
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def test_a_server_that_refuses_a_message_shape_gets_the_plain_one_once(build: Build) -> None:
    """llama-cpp-python answers 500 to `content: null` beside tool calls: the loop says the
    tool exchange in plain turns instead, and the cards land."""
    script = [Reply(calls=[Call("customer_history", {"limit": 5})]), cards_call()]
    with FakeOpenAI(script, refuse_null_content=True) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, HISTORY_TURN)))
        fake.assert_done()
    assert fake.refused == 1
    roles = [m["role"] for m in fake.requests[1]["messages"]]
    assert "tool" not in roles and "interaction_id" in json.dumps(fake.requests[1]["messages"])
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def test_ask_without_a_model_gives_the_best_passage_and_bad_questions_are_refused(
    full_engine: Any, tmp_path: Path
) -> None:
    engine = full_engine(f"sqlite:///{tmp_path / 'offline.db'}")
    asyncio.run(engine.handle(utter(1, PHONE_TURN)))
    answer = asyncio.run(engine.ask("s1", "How do I update an expired autopay card?"))
    assert answer.status == "offline" and answer.answer and answer.citations
    with pytest.raises(Exception, match="question: is empty"):
        asyncio.run(engine.ask("s1", "   "))
    with pytest.raises(Exception, match="no session"):
        asyncio.run(engine.ask("nobody", "hello?"))


def test_a_restart_carries_on_from_the_models_summary_and_spend(build: Build) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        first = build(fake.url)
        asyncio.run(turn(first, utter(1, PHONE_TURN)))
        asyncio.run(turn(first, utter(2, "Let me check that for you.", speaker="agent")))
        before = card(first, "s1", "summary", cm.SummaryData)
        again = build(fake.url)  # a new process on the same session database
        asyncio.run(turn(again, utter(3, "Ten years on autopay, why now?")))
    last = fake.requests[-1]["messages"][1]["content"]
    previous = last.split("PREVIOUS SUMMARY", 1)[1].split("NEW TURNS", 1)[0]
    assert before.prose in previous
    assert "past due" not in last.split("NEW TURNS SINCE THAT SUMMARY", 1)[1]
    usage = card(again, "s1", "summary", cm.SummaryData).usage
    assert usage is not None
    assert usage.conversation.calls == 3
    assert usage.conversation.prompt_tokens == fake.prompt_tokens


def test_an_action_done_elsewhere_closes_its_proposal(build: Build) -> None:
    with FakeOpenAI(responder=model_like.respond) as fake:
        engine = build(fake.url)
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        new_card(engine)
        asyncio.run(turn(engine, utter(2, "Your autopay card expired.", speaker="agent")))
        elsewhere = Event(
            event_id="s1-3",
            session_id="s1",
            type="action_result",
            speaker="system",
            ts=START + timedelta(seconds=3),
            data={"action": "update_autopay", "status": "done"},
        )
        asyncio.run(turn(engine, elsewhere))
    closed = actions(engine, "s1")["update_autopay"]
    assert closed.status == "done" and not closed.needs_approval
    assert "outside the copilot" in (closed.result or "")


def test_ids_a_small_model_writes_loosely_are_the_ids_it_meant(build: Build) -> None:
    """The schema sent lists what the turn may name (the open steps, the retrieved passages) and
    caps the answer's length; a model not held to it (tool calls are not grammar-bound on
    llama.cpp) that writes "step <id>" or "passage_<id>" has them read as the ids it meant."""
    offered: dict[str, Any] = {}

    def respond(body: dict[str, Any]) -> Reply:
        schema = sent_cards_schema(body)
        assert schema is not None
        props = schema["properties"]
        offered["steps"] = props["next_action"]["anyOf"][0]["properties"]["step_id"]["enum"]
        offered["max_tokens"] = body.get("max_completion_tokens", body.get("max_tokens"))
        prompt = next(m["content"] for m in body["messages"] if m["role"] == "user")
        step = prompt.split("Next step: ", 1)[1].split(" ", 1)[0]
        if "- passage " not in prompt:
            return cards_call()
        offered["passage"] = prompt.split("- passage ", 1)[1].split(" ", 1)[0]
        searchable = "search_knowledge" in {t["function"]["name"] for t in body["tools"]}
        # Ids listed where the model cannot search for more; any where it can.
        offered["listed"] = props["citations"]["items"].get("enum") or searchable
        return cards_call(
            next_action={"step_id": f"step {step}", "rationale": "Her autopay card expired."},
            citations=[f"passage_{offered['passage']}"],
        )

    with FakeOpenAI(responder=respond) as fake:
        engine = build(fake.url, structured="tools", max_output_tokens=600)
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        asyncio.run(turn(engine, utter(2, "Why did autopay fail? Is there a late fee?")))
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    assert offered["max_tokens"] == 600
    assert offered["steps"] == [s.id for s in nba.steps if s.status not in ("done", "not_needed")]
    assert nba.rationale == "Her autopay card expired." and nba.llm is not None
    assert nba.llm.status == "ok", nba.llm
    knowledge = card(engine, "s1", "knowledge", cm.KnowledgeData)
    assert knowledge.cited == [offered["passage"]], knowledge.llm
    assert offered["listed"]


def test_an_event_that_adds_no_turn_and_no_fact_is_not_asked_about_again(build: Build) -> None:
    """A channel switch after a model turn: the brief is the same, so no second request (on a
    small local model each one is tens of seconds); the next thing said is asked about."""
    with FakeOpenAI([cards_call(), cards_call(summary="Moved to the phone.")]) as fake:
        engine = build(fake.url, structured="tools")
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        asked = len(fake.requests)
        switch = Event(
            event_id="s1-switch",
            session_id="s1",
            type="channel_switch",
            speaker="system",
            channel="voice",
            ts=START + timedelta(seconds=5),
        )
        asyncio.run(turn(engine, switch))
        assert len(fake.requests) == asked
        asyncio.run(turn(engine, utter(6, "Hi, I was just on the chat about my bill.")))
        fake.assert_done()
    assert card(engine, "s1", "summary", cm.SummaryData).prose == "Moved to the phone."


def test_look_ups_are_cut_to_fit_a_small_context_and_then_the_cards_are_asked_for(
    build: Build,
) -> None:
    """Each tool result is cut to TOOL_RESULT_CHARS, and once a turn's results pass
    TOOL_TURN_CHARS no more look-ups are offered: the next request asks for the cards."""
    search = Call("search_knowledge", {"query": "autopay failed past due late fee card expired"})
    script = [Reply(calls=[search, search]), Reply(calls=[search]), cards_call()]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url, structured="tools")
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    results = [m["content"] for m in fake.requests[1]["messages"] if m["role"] == "tool"]
    assert len(results) == 2 and all("(cut: " in r for r in results), results
    assert all(len(r) <= TOOL_RESULT_CHARS + 40 for r in results)
    named = {"type": "function", "function": {"name": "write_cards"}}
    assert fake.requests[1]["tool_choice"] == "auto"  # 2 x 2,000 is not over 6,000 yet
    assert fake.requests[2]["tool_choice"] == named  # it is now: the cards, forced
    assert card(engine, "s1", "summary", cm.SummaryData).prose_source == "llm"


def test_a_free_round_going_nowhere_is_stopped_early_and_the_cards_asked_for(
    build: Build,
) -> None:
    """With look-ups offered and nothing forced, a small model writes a call of a tool that does
    not exist, at length: the stream is closed once that shows, so what the turn spends (and
    what a CPU server generates) stops there; the cards are asked for next."""
    rambling = {"name": "update_summary", "arguments": {"summary": "The customer said " * 150}}
    script = [Reply(text=f"```json\n{json.dumps(rambling)}\n```"), cards_call()]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    assert "response_format" not in fake.requests[0] and "response_format" in fake.requests[1]
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose_source == "llm" and summary.usage is not None
    # The fake counts both answers whole (the rambling is ~450 tokens); the turn read a few.
    assert summary.usage.turn.completion_tokens < fake.completion_tokens / 4, (
        summary.usage.turn,
        fake.completion_tokens,
    )


def test_an_answer_still_over_its_bounds_after_one_repair_is_cut_to_them_not_lost(
    build: Build,
) -> None:
    """A small model asked to keep the rationale to one sentence writes a paragraph twice: the
    second answer is kept with the paragraph cut at its last sentence within the bound."""
    sentence = "Her autopay card expired in September so the payment failed. "
    long_why = {"step_id": "explain-cause", "rationale": sentence * 12}  # ~740 characters
    script = [cards_call(next_action=long_why), cards_call(next_action=long_why)]
    with FakeOpenAI(script) as fake:
        engine = build(fake.url, structured="tools")
        verify(engine)
        asyncio.run(turn(engine, utter(1, PHONE_TURN)))
        fake.assert_done()
    assert "at most 400 characters" in fake.requests[1]["messages"][-1]["content"]
    summary = card(engine, "s1", "summary", cm.SummaryData)
    assert summary.prose_source == "llm" and summary.llm is not None
    assert summary.llm.status != "fallback", summary.llm
    nba = card(engine, "s1", "next_best_action", cm.NextBestActionData)
    assert nba.next is not None and nba.next.step == "explain-cause"
    assert nba.rationale is not None and nba.rationale.endswith("failed.")
    assert 300 <= len(nba.rationale) <= 400
