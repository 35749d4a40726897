"""The console's Play over real HTTP: a scenario's unavailable systems are down for its session
alone, as the offline replay and the eval suite play them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.conftest import bearer
from tests.server.conftest import serving_shipped

PHONE_TURN = "Hi, I got an email saying my bill is past due. My number is (415) 555-0101."


@pytest.fixture(scope="module")
def served(request: pytest.FixtureRequest) -> Iterator[str]:
    with serving_shipped(request, "play-outage") as url:
        yield url


def cards(c: httpx.Client, sid: str) -> dict[str, Any]:
    panel = c.get(f"/v1/sessions/{sid}/panel")
    assert panel.status_code == 200, panel.text
    return {card["id"]: card for card in panel.json()["cards"]}


def play(c: httpx.Client, name: str) -> str:
    """What the console's Play button does: fetch the turns, open a session, post each."""
    scenario = c.get(f"/v1/scenarios/{name}").json()
    sid = c.post("/v1/sessions", json={"channel": scenario["channel"]}).json()["session_id"]
    for turn in scenario["turns"]:
        event = {k: turn[k] for k in ("type", "speaker", "channel", "text", "data")}
        posted = c.post(f"/v1/sessions/{sid}/events", json={"event_id": str(uuid.uuid4()), **event})
        assert posted.status_code == 202, posted.text
    return str(sid)


def test_play_takes_billing_down_for_its_session_only(served: str) -> None:
    with httpx.Client(base_url=served, headers=bearer("agent"), timeout=60) as c:
        scenario = c.get("/v1/scenarios/billing-system-down").json()
        assert scenario["unavailable"] == ["billing"]
        assert scenario["turns"][0]["data"] == {"drill": {"unavailable": ["billing"]}}

        drilled = play(c, "billing-system-down")
        # A normal session on the same server, at the same time, still reaches billing.
        normal = c.post("/v1/sessions", json={"channel": "chat"}).json()["session_id"]
        said = {"event_id": "n1", "type": "utterance", "speaker": "customer", "text": PHONE_TURN}
        assert c.post(f"/v1/sessions/{normal}/events", json=said).status_code == 202

        down = cards(c, drilled)
        customer = down["customer"]
        assert customer["data"]["customer_id"] == "CUS-9000001"  # the CRM still answers
        assert customer["status"] == "degraded"
        assert [d.split(":")[0] for d in customer["data"]["degraded"]] == ["billing"]
        assert "127.0.0.1:9" in customer["data"]["degraded"][0]  # with_outage's dead address
        assert customer["data"]["accounts"] == []
        assert down["offer"]["data"]["offer"] is None  # the scenario's `offer: none`

        up = cards(c, normal)["customer"]
        assert up["status"] == "ok" and up["data"]["degraded"] == []
        assert [a["account_number"] for a in up["data"]["accounts"]] == ["BA90000001"]

        # The drill rides in the session's log: rebuilt from it, the session still has it.
        assert c.post(f"/v1/sessions/{drilled}/close").status_code == 200
        rebuilt = cards(c, drilled)["customer"]
        assert [d.split(":")[0] for d in rebuilt["data"]["degraded"]] == ["billing"]


def test_a_scenario_without_an_outage_plays_with_every_system(served: str) -> None:
    with httpx.Client(base_url=served, headers=bearer("agent"), timeout=60) as c:
        scenario = c.get("/v1/scenarios/past-due-autopay").json()
        assert scenario["unavailable"] == []
        assert all("drill" not in t["data"] for t in scenario["turns"])
        customer = cards(c, play(c, "past-due-autopay"))["customer"]
        assert customer["status"] == "ok"
        assert customer["data"]["accounts"]
