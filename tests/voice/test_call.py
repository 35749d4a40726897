"""A phone call end to end: espeak-ng speech as 8 kHz mu-law over a real WebSocket, in Twilio
Media Streams messages, into a real server; the panel fills as it does for chat, and a spoken
card number and keypad digits are masked in what is stored."""

from __future__ import annotations

import json
import time
from typing import Any

import httpx
from websockets.sync.client import connect

from copilot import card_models as cm
from evals.speech import FRAME_MS, dtmf, media, silence, speech, start
from tests.card_data import data
from tests.conftest import bearer
from tests.voice.conftest import Served, key

RICK = "CUS-9000006"
CARD = "4539148803436467"  # passes the Luhn check, as a real card number would
TURNS = [
    ("inbound", "My phone number is nine seven one, five five five, zero one zero six."),
    ("inbound", "My calls keep dropping at home."),
    ("outbound", "I'm sorry to hear that."),
    (
        "inbound",
        "Please charge my card four five three nine, one four eight eight, "
        "zero three four three, six four six seven.",
    ),
]


def call(served: Served, sid: str) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """One call: every turn, then the keypad, then stop; what the server sent back and its close."""
    with connect(f"{served.ws}?token={key('bot')}", open_timeout=30, close_timeout=120) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send(start(sid, ["inbound", "outbound"]))
        chunk = 1
        for turn, (track, text) in enumerate(TURNS):
            frames = list(media(speech(text), track, first_chunk=chunk))
            frames += media(silence(1.0), track, first_chunk=chunk + len(frames))
            chunk += len(frames)
            for i, frame in enumerate(frames):
                ws.send(frame)
                # The first turn comes as fast as it is spoken, so its partials are read while
                # it lasts; the rest as fast as the socket takes them (a partial overtaken by its
                # final is never transcribed).
                if turn == 0 and i % 10 == 9:
                    time.sleep(10 * FRAME_MS / 1000)
        for digit in "1234#":
            ws.send(dtmf(digit))
        ws.send(json.dumps({"event": "stop", "stop": {"callSid": sid}}))
        got: list[dict[str, Any]] = []
        for message in ws:
            got.append(json.loads(message))
        return got, ws.close_code, ws.close_reason


def test_a_spoken_call_fills_the_panel_and_stores_no_card(voiced: Served) -> None:
    got, code, reason = call(voiced, "CAvoice0001")
    assert (code, reason) == (1000, "call ended")
    assert got[0] == {"event": "session", "session_id": "call-CAvoice0001"}
    sid = got[0]["session_id"]
    finals = [m for m in got if m["event"] == "transcript" and m["final"]]
    partials = [m for m in got if m["event"] == "transcript" and not m["final"]]
    assert [(m["speaker"], m["utterance"]) for m in finals] == [
        ("customer", 0),
        ("customer", 1),
        ("agent", 0),
        ("customer", 2),
    ], finals
    assert partials, "no partial transcript while the customer spoke"
    assert "dropping" in finals[1]["text"].lower()

    with httpx.Client(base_url=voiced.url, headers=bearer("agent"), timeout=30) as agent:
        info = agent.get(f"/v1/sessions/{sid}").json()
        assert info["channel"] == "voice"
        cards = {c["id"]: c for c in agent.get(f"/v1/sessions/{sid}/panel").json()["cards"]}
    heard = [m["text"] for m in finals]
    assert cards["customer"]["status"] != "empty", heard
    assert data(cards["customer"], cm.CustomerData).customer_id == RICK, heard
    assert data(cards["next_best_action"], cm.NextBestActionData).intent == (
        "no_signal_dropped_calls"
    )

    stored = voiced.engine.deps.store.events(sid)
    said = [e for e in stored if e.type == "utterance"]
    assert [e.speaker for e in said] == ["customer", "customer", "agent", "customer"]
    assert all(e.channel == "voice" for e in stored)
    everything = json.dumps([e.model_dump(mode="json") for e in stored])
    assert CARD not in everything.replace(" ", "") and "[card ending 6467]" in said[3].text
    keys = [e for e in stored if e.type == "metadata"]
    assert [e.data for e in keys] == [{"dtmf": "[keypad entry]"}]
    assert "1234" not in everything
    # What the bridge was told is masked too.
    assert "[card ending 6467]" in finals[3]["text"]
