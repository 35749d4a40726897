"""Scale-out over HTTP on loopback: the embedded default beside PostgreSQL + Redis with one and
two workers, and two workers with one killed halfway, side by side in one run.

Each deployment is a fresh `copilot serve` process (`--workers 2` for the two-worker rows) over
a copy of the demo data. The PostgreSQL rows share one throw-away cluster (a database each,
migrated by `copilot db upgrade`) and one throw-away Redis (evals.servers). Each session is an
agent's console: it creates a session, follows its SSE stream (reconnecting with
Last-Event-ID when the stream drops) and posts its lines at conversational pace, each with a
fixed event_id, retried on a connection error or a 5xx until answered (the contract makes a
retry idempotent). Halfway through the kill row, one worker process gets SIGKILL; uvicorn's
supervisor starts a new one.

Each deployment runs twice on its server: at conversational pace (each agent's customer thinks
1-3 s between lines, so events/s is mostly the offered load) and saturated (no think time: each
session posts its next line once the last one is acknowledged, so events/s is what the
deployment can take on this machine, load generator included). The kill row runs at
conversational pace only.

- events/s: acknowledged events over the posting window.
- event-to-panel: from just before the first POST of an event to the arrival on its session's
  stream of the update carrying that event_id.
- lost: acknowledged events whose update never arrived (a snapshot after a long gap counts as
  arrived for what it covers: `covered`); duplicated: one panel version delivered twice on one
  stream connection's life (across reconnects too).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json
import os
import random
import signal
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from copilot import sessions_db
from evals import servers
from evals.bench import load
from evals.bench.foundation import percentile
from evals.bench.soak import ServeProcess

SESSIONS = 40
SECONDS = 30.0
THINK_S = (1.0, 3.0)
PACES: dict[str, tuple[float, float]] = {"talk": THINK_S, "flat out": (0.0, 0.0)}
RETRY_FOR_S = 60.0
DRAIN_S = 5.0
# embedded: SQLite + in-process fan-out; pg+redis: the sessions database on PostgreSQL and the
# fan-out through Redis; xN: worker processes; kill: one worker gets SIGKILL halfway.
DEPLOYMENTS = ("embedded x1", "pg+redis x1", "pg+redis x2")
KILLED = "pg+redis x2 kill"


@dataclass
class Row:
    name: str
    pace: str = "talk"
    acked: int = 0
    seconds: float = 0.0
    latencies_ms: list[float] = field(default_factory=list)
    lost: int = 0
    covered: int = 0
    duplicated: int = 0
    errors: list[str] = field(default_factory=list)
    retries: int = 0
    reconnects: int = 0
    killed: int | None = None  # the worker's pid

    @property
    def events_per_s(self) -> float:
        return self.acked / self.seconds if self.seconds else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies_ms, p) if self.latencies_ms else float("nan")


@dataclass
class _Conversation:
    index: int
    lines: list[tuple[str, str]]
    sent: dict[str, float] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    arrived: dict[str, float] = field(default_factory=dict)
    snapshot_at: list[float] = field(default_factory=list)
    versions: list[int] = field(default_factory=list)
    last: int | None = None
    finished: float = 0.0  # when it stopped posting


async def _follow(
    client: httpx.AsyncClient, sid: str, c: _Conversation, row: Row, done: asyncio.Event
) -> None:
    """The session's stream until `done`, reconnecting with Last-Event-ID when it drops."""
    while not done.is_set():
        headers = {"Last-Event-ID": str(c.last)} if c.last is not None else {}
        try:
            async with client.stream(
                "GET", f"/v1/sessions/{sid}/stream", headers=headers, timeout=None
            ) as r:
                data = ""
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        data = line[6:]
                    elif not line and data:
                        item = json.loads(data)
                        data = ""
                        if item.get("type") != "panel_update":
                            continue
                        c.versions.append(item["version"])
                        c.last = item["version"]
                        now = time.perf_counter()
                        if item["event_id"] == "snapshot":
                            c.snapshot_at.append(now)
                        else:
                            c.arrived.setdefault(item["event_id"], now)
                    if done.is_set():
                        return
        except (httpx.HTTPError, json.JSONDecodeError):
            pass
        if not done.is_set():
            row.reconnects += 1
            await asyncio.sleep(0.2)


async def _post(client: httpx.AsyncClient, sid: str, body: dict[str, str], row: Row) -> bool:
    deadline = time.monotonic() + RETRY_FOR_S
    while time.monotonic() < deadline:
        try:
            r = await client.post(f"/v1/sessions/{sid}/events", json=body)
            if r.status_code == 202:
                return True
            if r.status_code < 500:
                row.errors.append(f"HTTP {r.status_code} {r.text[:120]}")
                return False
        except httpx.HTTPError:
            pass
        row.retries += 1
        await asyncio.sleep(0.2)
    row.errors.append(f"no answer in {RETRY_FOR_S:g} s")
    return False


async def _conversation(
    base: str,
    c: _Conversation,
    stop_at: float,
    row: Row,
    rng: random.Random,
    think: tuple[float, float] = THINK_S,
) -> None:
    headers = {"Authorization": f"Bearer {load.KEY}"}
    async with httpx.AsyncClient(base_url=base, headers=headers, timeout=30) as client:
        sid = ""
        while not sid:
            with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
                sid = (await client.post("/v1/sessions", json={})).json()["session_id"]
            if not sid:
                await asyncio.sleep(0.2)
        done = asyncio.Event()
        follower = asyncio.create_task(_follow(client, sid, c, row, done))
        await asyncio.sleep(0.5)
        # The script over again until the window closes: a flat-out session runs out of lines.
        for n, (speaker, text) in enumerate(itertools.cycle(c.lines)):
            if time.perf_counter() >= stop_at:
                break
            event_id = f"s{c.index}-{n}"
            body = {"event_id": event_id, "type": "utterance", "speaker": speaker, "text": text}
            c.sent[event_id] = time.perf_counter()
            if await _post(client, sid, body, row):
                c.acked.add(event_id)
            await asyncio.sleep(rng.uniform(*think))
        c.finished = time.perf_counter()
        await asyncio.sleep(DRAIN_S)  # the last updates arrive (the latency is measured anyway)
        done.set()
        follower.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await follower


def _workers(pid: int) -> list[int]:
    try:
        children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    except OSError:
        return []
    return [int(c) for c in children]


async def _run_row(
    name: str, base: str, serve_pid: int, sessions: int, seconds: float, pace: str = "talk"
) -> Row:
    row = Row(name, pace)
    rng = random.Random(load.SEED)
    conversations = [_Conversation(i, lines) for i, lines in enumerate(load.scripts(sessions))]
    t0 = time.perf_counter()
    stop_at = t0 + seconds

    async def kill_halfway() -> None:
        await asyncio.sleep(seconds / 2)
        workers = _workers(serve_pid)
        # The supervisor's own helper (multiprocessing's resource tracker) is not a worker.
        workers = [w for w in workers if "resource_tracker" not in _cmdline(w)]
        if workers:
            row.killed = workers[-1]
            with contextlib.suppress(ProcessLookupError):
                os.kill(workers[-1], signal.SIGKILL)

    killer = asyncio.create_task(kill_halfway()) if name == KILLED else None
    think = PACES[pace]
    await asyncio.gather(*(_conversation(base, c, stop_at, row, rng, think) for c in conversations))
    if killer is not None:
        await killer
    row.seconds = min(max(c.finished for c in conversations), stop_at) - t0
    for c in conversations:
        row.acked += len(c.acked)
        seen = c.versions
        row.duplicated += len(seen) - len(set(seen))
        for event_id in c.acked:
            got = c.arrived.get(event_id)
            if got is not None:
                row.latencies_ms.append((got - c.sent[event_id]) * 1000)
            elif any(s >= c.sent[event_id] for s in c.snapshot_at):
                row.covered += 1
            else:
                row.lost += 1
    return row


def _every_worker_ready(base: str, workers: int) -> None:
    """Until that many worker processes have answered /readyz 200 (each on a new connection)."""
    seen: set[int] = set()
    deadline = time.monotonic() + load.READY_S
    while len(seen) < workers and time.monotonic() < deadline:
        with contextlib.suppress(httpx.HTTPError, KeyError, ValueError):
            r = httpx.get(f"{base}/readyz", timeout=2)
            if r.status_code == 200:
                seen.add(int(r.json()["worker"]))
        time.sleep(0.05)


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def run(
    data_dir: Path,
    kb_dir: Path,
    sessions: int = SESSIONS,
    seconds: float = SECONDS,
    say: Callable[[str], None] | None = None,
    paces: tuple[str, ...] = tuple(PACES),
) -> list[Row]:
    """Every deployment in turn, each on a fresh server; a row per pace (the kill row: talk)."""
    load.check_inputs(data_dir, kb_dir)
    rows: list[Row] = []
    names = [*DEPLOYMENTS, KILLED]
    with (
        tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp,
        servers.cluster([f"sessions{i}" for i in range(1, len(names))]) as databases,
        servers.redis_server() as redis,
    ):
        for i, name in enumerate(names):
            extra: dict[str, str] = {}
            args: list[str] = []
            if i > 0:
                url = databases[f"sessions{i}"]
                sessions_db.upgrade(url)
                extra = {"COPILOT_SESSIONS_URL": url, "COPILOT_REDIS_URL": redis}
            if "x2" in name:
                args = ["--workers", "2"]
            server = ServeProcess(data_dir, kb_dir, Path(tmp) / f"row-{i}", args, extra)
            if say:
                say(f"{name}: starting")
            server.spawn()
            try:
                asyncio.run(server.ready(time.monotonic() + load.READY_S))
                _every_worker_ready(server.base, 2 if args else 1)
                pid = server.proc.pid if server.proc is not None else 0
                for pace in paces if name != KILLED else paces[:1]:
                    if say:
                        say(f"{name}, {pace}: {sessions} sessions for {seconds:g} s")
                    row = _run_row(name, server.base, pid, sessions, seconds, pace)
                    rows.append(asyncio.run(row))
            finally:
                server.stop()
    return rows
