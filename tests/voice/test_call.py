"""A phone call end to end: espeak-ng speech as 8 kHz mu-law over a real WebSocket, in Twilio
Media Streams messages, into a real server; the panel fills as it does for chat, and a spoken
card number and keypad digits are masked in what is stored."""

from __future__ import annotations

import json
import threading
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


def call(
    served: Served, sid: str, turns: list[tuple[str, str]] = TURNS, query: str = ""
) -> tuple[list[dict[str, Any]], int | None, str | None]:
    """One call: every turn, then the keypad, then stop; what the server sent back and its close."""
    url = f"{served.ws}?token={key('bot')}{query}"
    with connect(url, open_timeout=30, close_timeout=120) as ws:
        ws.send(json.dumps({"event": "connected", "protocol": "Call", "version": "1.0.0"}))
        ws.send(start(sid, ["inbound", "outbound"]))
        chunk = 1
        for turn, (track, text) in enumerate(turns):
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


def captions(served: Served, sid: str, out: list[dict[str, Any]], last: int = 2) -> None:
    """The agent's panel stream of a call's session: its transcript lines, until the customer's
    final number `last`. The session exists once the call starts; until then the stream is 404."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        url = f"{served.url}/v1/sessions/{sid}/stream"
        with httpx.stream("GET", url, headers=bearer("agent"), timeout=60) as r:
            if r.status_code != 200:
                time.sleep(0.05)
                continue
            kind = ""
            for line in r.iter_lines():
                if line.startswith("event: "):
                    kind = line[7:]
                elif line.startswith("data: ") and kind == "transcript":
                    out.append(json.loads(line[6:]))
                    if out[-1]["final"] and out[-1]["utterance"] == last:
                        return


def test_a_spoken_call_fills_the_panel_and_stores_no_card(voiced: Served) -> None:
    shown: list[dict[str, Any]] = []
    panel = threading.Thread(target=captions, args=(voiced, "call-CAvoice0001", shown), daemon=True)
    panel.start()
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

    # The agent's panel stream carried the same words live: partials, then each final, masked.
    panel.join(30)
    assert [m["text"] for m in shown if m["final"]][-3:] == heard[1:], shown
    assert any(not m["final"] for m in shown), "no live partial on the panel stream"
    assert all(m["session_id"] == sid and m["speaker"] in ("customer", "agent") for m in shown)
    assert CARD not in json.dumps(shown).replace(" ", "")


def test_a_bidirectional_stream_gets_no_transcripts_back_and_the_panel_still_does(
    voiced: Served,
) -> None:
    """Twilio's bidirectional <Stream> takes only media, mark and clear back: ?transcripts=off."""
    shown: list[dict[str, Any]] = []
    sid = "call-CAvoice0002"
    panel = threading.Thread(target=captions, args=(voiced, sid, shown, 0), daemon=True)
    panel.start()
    got, code, _ = call(voiced, "CAvoice0002", TURNS[1:2], "&transcripts=off")
    assert (got, code) == ([], 1000)
    panel.join(30)
    finals = [m for m in shown if m["final"]]
    assert len(finals) == 1 and "dropping" in finals[0]["text"].lower(), shown
