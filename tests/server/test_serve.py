"""`copilot serve` as production runs it: a stop ends every stream at once, and its log keeps
neither the keys nor the customer identifiers that arrive in URLs."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import httpx
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from evals.bench import load
from evals.bench.soak import ServeProcess

PHONE = "(415) 555-0101"


def test_a_stop_ends_every_stream_and_the_log_keeps_no_secrets(
    data_dir: Path, demo_kb: Path, tmp_path: Path
) -> None:
    server = ServeProcess(data_dir, demo_kb, tmp_path)
    server.spawn()
    try:
        asyncio.run(server.ready(time.monotonic() + load.READY_S))
        base, key = server.base, load.KEY
        auth = {"Authorization": f"Bearer {key}"}
        assert httpx.get(f"{base}/", params={"token": key}).status_code == 200  # the console link
        sid = httpx.post(f"{base}/v1/sessions", json={}, headers=auth).json()["session_id"]
        found = httpx.get(f"{base}/v1/customers/resolve", params={"phone": PHONE}, headers=auth)
        assert found.status_code == 200 and found.json()["status"] == "matched"

        ended: list[str] = []

        def follow_sse() -> None:
            url = f"{base}/v1/sessions/{sid}/stream"
            with httpx.stream("GET", url, params={"access_token": key}, timeout=60) as r:
                for _ in r.iter_lines():
                    pass
            ended.append("sse")  # the server ended the stream; a client reconnects

        sse = threading.Thread(target=follow_sse, daemon=True)
        sse.start()
        ws_url = base.replace("http://", "ws://") + f"/v1/sessions/{sid}/ws?access_token={key}"
        with connect(ws_url, open_timeout=10) as ws:
            assert '"snapshot"' in str(ws.recv(timeout=10))
            time.sleep(0.5)  # the SSE stream is open too
            started = time.monotonic()
            server.signal(__import__("signal").SIGTERM)
            try:
                while True:
                    ws.recv(timeout=15)
            except ConnectionClosed as closed:
                assert closed.rcvd is not None and closed.rcvd.code == 1012  # come back later
        assert server.proc is not None
        server.proc.wait(timeout=15)
        took = time.monotonic() - started
        sse.join(5)
        assert ended == ["sse"]
        assert took < 5, f"the stop took {took:.1f} s"
    finally:
        server.kill()
    log = server.log.read_text()
    assert "access_token=***" in log and "phone=***" in log and "token=***" in log
    assert key not in log
    assert "555-0101" not in log and "555-0101".replace("-", "") not in log
