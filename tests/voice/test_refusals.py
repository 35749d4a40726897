"""What a bad bridge gets: a close code and a reason, never a traceback or a hung socket."""

from __future__ import annotations

import json

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from evals.speech import media, silence, speech, start
from tests.voice.conftest import Served, key


def closed(url: str, *frames: str) -> tuple[int | None, str | None]:
    with connect(url, open_timeout=30) as ws:
        try:
            for frame in frames:
                ws.send(frame)
            while True:
                ws.recv(timeout=30)
        except ConnectionClosed:
            pass
        return ws.close_code, ws.close_reason


@pytest.mark.parametrize(
    ("query", "code", "says"),
    [
        ("", 4401, "send an API key"),
        ("?token=not-a-key-at-all-000", 4401, "unknown API key"),
        (f"?token={key('qa')}", 4403, "qa role"),
    ],
)
def test_a_caller_without_a_sending_key_is_refused(
    voiced: Served, query: str, code: int, says: str
) -> None:
    got, reason = closed(voiced.ws + query, start("CAnokey", ["inbound"]))
    assert got == code and reason is not None and says in reason


@pytest.mark.parametrize(
    ("frames", "code", "says"),
    [
        (["{not json"], 4400, "Invalid JSON"),
        ([json.dumps({"event": "ring"})], 4400, "unknown event 'ring'"),
        ([json.dumps({"event": "media", "media": {"payload": ""}})], 4400, "send start first"),
        ([json.dumps({"event": "x" * 70_000})], 1009, "at most"),
        (
            [
                start("CAbad", ["inbound"]),
                json.dumps({"event": "media", "media": {"payload": "%%"}}),
            ],
            4400,
            "not base64",
        ),
        ([start("CAbad2", ["inbound"], rate=16_000)], 4400, "not supported"),
    ],
)
def test_bad_messages_close_the_socket_with_a_reason(
    voiced: Served, frames: list[str], code: int, says: str
) -> None:
    got, reason = closed(f"{voiced.ws}?token={key('bot')}", *frames)
    assert got == code and reason is not None and says in reason, reason


def test_another_tenants_session_is_refused(voiced: Served) -> None:
    import httpx

    from tests.conftest import bearer

    made = httpx.post(
        f"{voiced.url}/v1/sessions", json={"channel": "chat"}, headers=bearer("other")
    ).json()
    frames = start("CAtheirs", ["inbound"], session_id=made["session_id"])
    got, reason = closed(f"{voiced.ws}?token={key('bot')}", frames)
    assert got == 4403 and reason is not None and "another tenant" in reason


def test_wideband_pcm_is_transcribed(voiced: Served) -> None:
    """audio/l16 at 16 kHz, as other bridges send it."""
    url = f"{voiced.ws}?access_token={key('bot')}"
    audio = speech("My calls keep dropping.", rate=16_000)
    with connect(url, open_timeout=30, close_timeout=60) as ws:
        ws.send(start("CAwide0001", ["inbound"], encoding="audio/l16", rate=16_000))
        for frame in [
            *media(audio, encoding="audio/l16", rate=16_000),
            *media(silence(1.0, 16_000), encoding="audio/l16", rate=16_000),
        ]:
            ws.send(frame)
        ws.send(json.dumps({"event": "stop"}))
        got = [json.loads(m) for m in ws]
    finals = [m for m in got if m["event"] == "transcript" and m["final"]]
    assert len(finals) == 1 and "drop" in finals[0]["text"].lower(), got
