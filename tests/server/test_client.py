"""The Python client and the example bot against a real server on loopback."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from langchain_core.messages import ToolMessage

from copilot.handoff import MAX_TRANSCRIPT, HandoffAccepted, HandoffPacket
from examples.handoff_bot import ORIGINS, SCRIPTS, HandoffBot, main
from server.client import (
    AsyncCopilotClient,
    CopilotClient,
    CopilotClientError,
    HandoffArgs,
    handoff_request,
    handoff_tool,
)
from tests.conftest import bearer
from tests.server.conftest import serving_shipped


def key(role: str) -> str:
    return bearer(role)["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving_shipped(request, "client") as url:
        yield url


@pytest.fixture
def bot_client(served: str) -> Iterator[CopilotClient]:
    with CopilotClient(served, key("bot")) as client:
        yield client


@pytest.fixture
def agent_client(served: str) -> Iterator[CopilotClient]:
    with CopilotClient(served, key("agent")) as client:
        yield client


def utterance(n: int, text: str, speaker: str = "customer") -> dict[str, Any]:
    return {"event_id": f"e{n}", "type": "utterance", "speaker": speaker, "text": text}


def played(script: str = "past-due") -> HandoffBot:
    bot = HandoffBot(origin=ORIGINS[script])
    for line in SCRIPTS[script]:
        bot.reply(line)
    return bot


def test_a_bot_sends_events_and_an_agent_reads_the_panel(
    bot_client: CopilotClient, agent_client: CopilotClient
) -> None:
    sid = bot_client.create_session("chat")["session_id"]
    first = bot_client.post_event(sid, utterance(1, "My bill is past due. I'm (415) 555-0101."))
    assert first["version"] == 1 and "cards" not in first
    retry = utterance(1, "My bill is past due. I'm (415) 555-0101.")
    acks = bot_client.post_events(
        sid, [retry, utterance(2, "I'm on autopay, why did this happen?")]
    )
    assert [a["duplicate"] for a in acks] == [True, False]
    with pytest.raises(CopilotClientError) as reused:  # one id, other words: a sender's bug
        bot_client.post_events(sid, [utterance(3, "and another thing"), utterance(1, "hello")])
    assert (reused.value.status, reused.value.code) == (409, "event_conflict")
    assert "e1" in reused.value.message
    panel = agent_client.panel(sid)
    assert panel["session_id"] == sid and panel["version"] == 2
    customer = next(c for c in panel["cards"] if c["id"] == "customer")
    assert "CUS-9000001" in str(customer)


def test_server_errors_arrive_as_one_error_with_the_servers_words(
    served: str, bot_client: CopilotClient
) -> None:
    with pytest.raises(CopilotClientError) as unknown:
        bot_client.post_event("no-such-session", utterance(1, "hello"))
    assert unknown.value.status == 404 and unknown.value.code == "not_found"
    assert "no-such-session" in unknown.value.message
    with pytest.raises(CopilotClientError) as forbidden:
        bot_client.panel(bot_client.create_session()["session_id"])  # a bot reads nothing
    assert forbidden.value.status == 403 and forbidden.value.code == "forbidden"
    with (
        CopilotClient(served, "not-a-key-at-all") as stranger,
        pytest.raises(CopilotClientError) as denied,
    ):
        stranger.create_session()
    assert (denied.value.status, denied.value.code) == (401, "unauthorized")
    assert str(denied.value) == "401 unauthorized: unknown API key"


def test_an_unreachable_copilot_is_named_not_a_traceback() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # bound, never listening: the connection is refused
        with (
            CopilotClient(f"http://127.0.0.1:{port}", key("bot"), timeout=2) as c,
            pytest.raises(CopilotClientError) as down,
        ):
            c.create_session()
    assert down.value.status == 0 and down.value.code == "unreachable"
    assert f"http://127.0.0.1:{port}/v1/sessions" in down.value.message


@pytest.mark.anyio
async def test_the_async_client_does_the_same_and_a_closed_session_says_so(served: str) -> None:
    async with AsyncCopilotClient(served, key("agent")) as c:
        made = await c.create_session("voice", session_id="async-client-1")
        sid = made["session_id"]
        assert sid == "async-client-1" and made["open"] is True
        await c.post_events(sid, [utterance(1, "Hi, my bill is past due.")])
        assert (await c.panel(sid))["version"] == 1
        closing = await c.close_session(sid)
        assert closing["closed_by"] == "agent one" and closing["open"] is False
        with pytest.raises(CopilotClientError) as closed:
            await c.post_event(sid, utterance(2, "hello?"))
    assert (closed.value.status, closed.value.code) == (409, "session_closed")


def test_the_bot_verifies_tries_and_asks_for_a_person() -> None:
    bot = HandoffBot(origin=ORIGINS["past-due"])
    assert "mobile number" in bot.reply(SCRIPTS["past-due"][0])
    assert "ending 0101" in bot.reply("Sure, it's (415) 555-0101")
    assert "didn't match" in bot.reply("123456")
    assert "declined" in bot.reply("402931")
    assert not bot.wants_person
    bot.reply("I'd rather talk to a person, please. Can they waive the late fee too?")
    assert bot.wants_person
    request = bot.request()
    assert request.customer is not None and request.customer.customer_id == "CUS-9000001"
    assert request.verification is not None
    assert (request.verification.method, request.verification.channel) == ("otp_sms", "chat")
    assert request.details == {"phone": "(415) 555-0101", "account": "BA90000001"}
    assert [(t.kind, t.name, t.outcome) for t in request.tried] == [
        ("action", "retry_payment", "declined: card on file expired"),
        ("article", "billing-autopay-expired-card", "shown"),
    ]
    assert request.open_questions == ["update the autopay card", "waive the late fee?"]
    assert [line.speaker for line in request.transcript[:3]] == ["bot", "customer", "bot"]
    assert len(request.transcript) == 11  # the greeting and five exchanges


def test_a_long_talk_keeps_its_newest_lines_within_the_servers_limit() -> None:
    bot = played()
    long_talk = bot.context().model_copy(update={"transcript": bot.transcript * 40})
    request = handoff_request(long_talk, HandoffArgs(reason="the customer asked for a person"))
    assert len(request.transcript) == MAX_TRANSCRIPT
    assert request.transcript[-1].text == "handed off: the customer asked for a person"
    assert request.transcript[-2] == bot.transcript[-1]


def test_the_bot_hands_off_and_the_agent_opens_the_packet(
    bot_client: CopilotClient, agent_client: CopilotClient
) -> None:
    bot = played()
    accepted = bot.handoff(bot_client)
    assert isinstance(accepted, HandoffAccepted) and not accepted.duplicate
    assert accepted.packet is None  # the bot reads nothing back; the agent opens the packet
    packet = agent_client.get_handoff(bot.handoff_id)
    assert packet.handoff_id == bot.handoff_id and packet.session_id == accepted.session_id
    assert packet.identity.customer_id == "CUS-9000001"
    assert packet.identity.verification.status == "verified"
    assert packet.open_questions == ["update the autopay card", "waive the late fee?"]
    assert packet.origin is not None and packet.origin.reference == "INT-9000001-2"
    # The agent opens the human session and the packet the bot's handoff made.
    panel = agent_client.panel(accepted.session_id)
    assert panel["session_id"] == accepted.session_id and panel["cards"]
    stored = agent_client.get_handoff(bot.handoff_id)
    assert isinstance(stored, HandoffPacket) and stored.session_id == accepted.session_id
    # Sent again (a retry after a lost answer), it is the same handoff.
    again = bot.handoff(bot_client)
    assert again.duplicate and again.session_id == accepted.session_id


def test_the_langchain_tool_hands_off_once(bot_client: CopilotClient) -> None:
    bot = played()
    tool = handoff_tool(bot_client, conversation=bot.context)
    assert tool.name == "handoff_to_human"
    assert set(tool.args) == {"intent", "reason", "details", "tried", "open_questions"}
    first = tool.invoke(bot.tool_call())
    assert isinstance(first, ToolMessage) and first.status == "success"
    accepted = first.artifact
    assert isinstance(accepted, HandoffAccepted) and not accepted.duplicate
    assert accepted.session_id in str(first.content) and "takes over" in str(first.content)
    assert accepted.packet is None
    # The model calls it again: the same handoff_id, so the same session.
    said = tool.invoke(bot.tool_call()["args"])
    assert isinstance(said, str) and accepted.session_id in said and "already" in said
    again = bot.handoff(bot_client)
    assert again.duplicate and again.session_id == accepted.session_id


@pytest.mark.anyio
async def test_the_tool_over_the_async_client_hands_off_too(served: str) -> None:
    bot = played()
    async with AsyncCopilotClient(served, key("bot")) as c:
        tool = handoff_tool(c, conversation=bot.context)
        first = await tool.ainvoke(bot.tool_call())
        again = await tool.ainvoke(bot.tool_call())
    assert isinstance(first, ToolMessage) and isinstance(first.artifact, HandoffAccepted)
    assert isinstance(again, ToolMessage) and isinstance(again.artifact, HandoffAccepted)
    assert first.artifact.session_id == again.artifact.session_id and again.artifact.duplicate


def test_the_tool_tells_the_model_when_the_handoff_fails(served: str) -> None:
    bot = played()
    with CopilotClient(served, "not-a-key-at-all") as stranger:
        told = handoff_tool(stranger, conversation=bot.context).invoke(bot.tool_call())
    assert isinstance(told, ToolMessage) and told.status == "error"
    assert "401 unauthorized" in str(told.content)


def test_a_wrong_packet_is_refused_with_its_field(bot_client: CopilotClient) -> None:
    with pytest.raises(CopilotClientError) as wrong:
        bot_client.handoff({"handoff_id": "bad-packet-1", "tried": "everything"})
    assert (wrong.value.status, wrong.value.code) == (422, "invalid_packet")
    assert "tried" in wrong.value.message


def test_the_schemas_and_the_journey_after_a_handoff(
    bot_client: CopilotClient, agent_client: CopilotClient
) -> None:
    schema = agent_client.schema()
    assert schema["title"] == "HandoffPacket" and "session_id" in schema["properties"]
    assert bot_client.schema("handoff-request.json")["title"] == "HandoffRequest"
    with pytest.raises(CopilotClientError) as missing:
        agent_client.schema("nope.json")
    assert missing.value.status == 404 and "handoff-packet.json" in missing.value.message
    sid = played().handoff(bot_client).session_id
    sources = [e["source"] for e in agent_client.journey("CUS-9000001")["entries"]]
    # The email that brought her and the session the bot handed over, on one journey.
    assert f"session:{sid}" in sources and "crm:INT-9000001-2" in sources


def test_the_example_runs_from_the_command_line(
    served: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--url", served, "--key", key("bot"), "--langchain"]) == 0
    out = capsys.readouterr().out
    assert "customer: 402931" in out and "Handed off: session" in out
    assert '"handoff_id"' not in out and "CUS-" not in out  # a bot reads no packet back
    assert main(["--url", served, "--key", key("qa")]) == 1
    assert "handoff failed: 403 forbidden" in capsys.readouterr().err
