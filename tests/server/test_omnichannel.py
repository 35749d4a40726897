"""The omnichannel past-due story end to end: the billing email, the chat bot, then a person.

Through the real server on loopback and the example bot: the agent's stream opens with the intent,
the verification the bot did and the fix to suggest, before the agent types a word.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from copilot import card_models as cm
from examples.handoff_bot import ORIGINS, SCRIPTS, HandoffBot
from server.client import CopilotClient
from tests.card_data import data
from tests.conftest import bearer
from tests.server.conftest import serving_shipped

MARGARET = "CUS-9000001"
BILLING_EMAIL = "crm:INT-9000001-2"


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving_shipped(request, "omnichannel", ledger=True) as url:
        yield url


def first_update(url: str, sid: str) -> dict[str, Any]:
    """What the agent's panel shows on opening: the stream's first panel_update (the snapshot)."""
    headers = bearer("agent")
    with httpx.stream("GET", f"{url}/v1/sessions/{sid}/stream", headers=headers, timeout=30) as r:
        assert r.status_code == 200
        kind = ""
        for line in r.iter_lines():
            if line.startswith("event: "):
                kind = line[7:]
            elif line.startswith("data: ") and kind == "panel_update":
                update: dict[str, Any] = json.loads(line[6:])
                return update
    raise AssertionError("the stream ended before its first panel update")


def test_email_then_bot_then_human_and_nobody_asks_twice(served: str) -> None:
    key = bearer("bot")["Authorization"].removeprefix("Bearer ")
    with httpx.Client(base_url=served, headers=bearer("agent"), timeout=60) as agent:
        # 1. The billing email went out: it is the newest touchpoint on her journey.
        journey = agent.get(f"/v1/customers/{MARGARET}/journey").json()["entries"]
        assert journey[0]["source"] == BILLING_EMAIL and journey[0]["channel"] == "email"
        assert "past due" in journey[0]["summary"]

        # 2. She follows the email's chat link; the bot verifies her, tries, and hands off.
        bot = HandoffBot(origin=ORIGINS["past-due"])
        for line in SCRIPTS["past-due"]:
            bot.reply(line)
        with CopilotClient(served, key) as client:
            accepted = bot.handoff(client)
        sid = accepted.session_id

        # 3. The agent opens the session: everything is there before they type a word.
        cards = {c["id"]: c for c in first_update(served, sid)["cards"]}
        customer = data(cards["customer"], cm.CustomerData)
        assert customer.customer_id == MARGARET
        check = customer.verification
        assert check.status == "verified"
        assert check.text.startswith("verified by a texted code in chat")
        nba = data(cards["next_best_action"], cm.NextBestActionData)
        assert nba.intent == "billing_past_due"
        assert nba.next is not None
        assert nba.next.step == "update-card"  # the fix: the autopay card expired
        assert "card_expired" in nba.reason
        # Nothing to approve until the customer gives a new card through the secure form.
        assert not [c for c in cards.values() if c["type"] == "action"]
        assert any("secure payment form" in need for need in nba.next.waiting_for)
        origin = data(cards["journey"], cm.JourneyData).origin
        assert origin is not None
        assert origin.source == BILLING_EMAIL and "billing email" in origin.summary
        summary = data(cards["summary"], cm.SummaryData)
        assert summary.handoff is not None and summary.handoff.tried[0].name == "retry_payment"
        assert {p.field for p in summary.provided} >= {"identity", "phone", "issue"}
        assert "402931" not in json.dumps(cards)  # the texted code stays out of every card
        assert accepted.packet is None  # the bot reads nothing back
        packet = agent.get(f"/v1/handoffs/{bot.handoff_id}").json()
        assert "[secret]" not in packet["mood"]["quotes"]

        # The agent starts with the fix, not with questions: no repeat alert.
        hello = {
            "event_id": "agent-1",
            "type": "utterance",
            "speaker": "agent",
            "text": "Hi Margaret, I can see your autopay card expired; let's update it now.",
        }
        assert agent.post(f"/v1/sessions/{sid}/events", json=hello).status_code == 202
        panel = {c["id"]: c for c in agent.get(f"/v1/sessions/{sid}/panel").json()["cards"]}
        assert "alert:repeat" not in panel

        # And the journey now has her chat with the bot and the agent, beside the email.
        after = agent.get(f"/v1/customers/{MARGARET}/journey").json()["entries"]
        assert after[0]["source"] == f"session:{sid}" and after[0]["kind"] == "session"
        assert BILLING_EMAIL in [e["source"] for e in after]
