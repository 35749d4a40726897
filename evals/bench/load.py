"""Concurrent sessions over HTTP on loopback: events per second and event-to-panel latency.

The server runs as production runs it, a separate `copilot serve` process (one uvicorn worker,
the offline engine: no LLM), started fresh for each level over a copy of the demo data in a
temporary folder, so its session log starts empty and nothing piles up in var/. Each session
is an agent's console: it creates a session, subscribes to its SSE stream, waits for the
snapshot, then posts one line at a time at conversational pace (a seeded think time between
its lines), customer and agent in turn, taken from the scenarios in evals/scenarios. Half the
sessions open with a demo story customer's phone number, so identity resolution and the
systems fan-out run too. Sessions start staggered over the first seconds and stop posting when
the level's time is up; then each waits for its last updates. With a ramp (`ramp`), starts are
spread over that many seconds instead and each session posts for the level's seconds from its own
start, so the level's posting window is ramp + seconds. `copilot bench load` ramps over 60 s by
default: 200 conversations starting at 3.3 a second is already about six times what 200 agents at
a 6-minute handle time see; `--ramp 5` is the herd, where every first event queues together.

- latency: from just before a POST to the arrival, on that session's stream, of the panel
  update carrying the posted event_id (the fast path's update), as the client sees it.
- lost update: a posted (202, not duplicate) event whose update did not arrive within
  TIMEOUT_S, or a gap in the panel versions a stream delivered.
- error: any non-2xx answer, connection error or timeout, or a stream the server ended.
- steady state: only the events posted STEADY_AFTER_S after the ramp ended, once every session
  has started and the backlog of first events (identity resolution, the customer 360) had time
  to clear; their latencies are also reported on their own.

The load generator is one asyncio process sharing the machine's cores with the server, so its
own CPU (shown) is taken from the server's; at high levels both compete.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import yaml

from copilot.scenario import load as load_scenario
from evals.bench.foundation import percentile
from evals.servers import free_port, stop

LEVELS = (50, 200, 500)
BASELINE = 1  # the same load at one session: the unloaded latency
SECONDS = 30.0
THINK_S = (4.0, 8.0)  # seconds between one session's lines
STAGGER_S = 5.0  # sessions start spread over this long (at most a third of the level)
STEADY_AFTER_S = 10.0  # steady state: events posted this long after the ramp ended
TIMEOUT_S = 10.0  # an update later than this after its POST counts as lost
READY_S = 180.0  # the server's models load before /readyz answers 200
TARGET_P95_MS = 250.0
TARGET_AT = 200
EVAL_DATA = Path("var/eval-data")
KB_DIR = Path("var/kb")
ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = ROOT / "evals" / "scenarios"
KEY = "bench-load-agent-key-0123456789"
STORY_PHONES = (
    "(415) 555-0101",
    "(503) 555-0102",
    "(206) 555-0103",
    "(425) 555-0104",
    "(971) 555-0106",
)
AGENT_LINES = (
    "Thanks for waiting, I'm looking at your account now.",
    "I understand, let me check that for you.",
    "Is there anything else I can help you with today?",
)
SEED = 7


@dataclass
class Row:
    """One level: what its sessions sent and saw, and the server process at its end."""

    sessions: int
    seconds: float  # from the first POST to the last update received
    sent: int  # events posted
    delivered: int  # of those, updates that arrived on the stream within TIMEOUT_S
    latencies_ms: list[float]
    engine_ms: list[float]  # the server's own fast-path time, from each 202
    errors: list[str]
    lost: int  # posted events whose update came late or never, plus version gaps
    late: int  # of those, updates that did arrive, but more than TIMEOUT_S after the POST
    gaps: int
    rss_mib: float
    server_cpu: float  # cores the server kept busy on average while sessions were posting
    client_cpu: float  # cores the load generator kept busy on average, the same window
    ramp_s: float = 0.0  # sessions started spread over this long
    steady_ms: list[float] = field(default_factory=list)  # latencies of steady-state events
    steady_lost: int = 0  # steady-state events whose update came late or never
    firsts: list[bool] = field(default_factory=list)  # per latency: its session's first event?

    @property
    def events_per_s(self) -> float:
        return self.delivered / self.seconds if self.seconds > 0 else 0.0

    def pct(self, p: float) -> float:
        return percentile(self.latencies_ms, p) if self.latencies_ms else math.nan

    @property
    def p50(self) -> float:
        return self.pct(50)

    @property
    def p95(self) -> float:
        return self.pct(95)

    @property
    def max_ms(self) -> float:
        return max(self.latencies_ms, default=math.nan)

    @property
    def engine_p95(self) -> float:
        return percentile(self.engine_ms, 95) if self.engine_ms else math.nan

    @property
    def missing(self) -> int:
        """Updates not seen at all before the stream was closed (TIMEOUT_S after the last POST)."""
        return self.lost - self.late - self.gaps

    def error_kinds(self) -> list[tuple[str, int]]:
        return Counter(self.errors).most_common()

    @property
    def steady_n(self) -> int:
        return len(self.steady_ms)

    @property
    def steady_p50(self) -> float | None:
        """None where no event was posted in the steady state."""
        return percentile(self.steady_ms, 50) if self.steady_ms else None

    @property
    def steady_p95(self) -> float | None:
        return percentile(self.steady_ms, 95) if self.steady_ms else None

    def slow_firsts(self, share: float = 0.05) -> tuple[int, int]:
        """(of the slowest `share` of updates, how many were their session's first event, how
        many updates that is); (0, 0) when nothing arrived."""
        if not self.latencies_ms or len(self.firsts) != len(self.latencies_ms):
            return 0, 0
        count = max(1, math.ceil(share * len(self.latencies_ms)))
        ranked = sorted(zip(self.latencies_ms, self.firsts, strict=True), reverse=True)[:count]
        return sum(first for _, first in ranked), count


def scripts(count: int, seed: int = SEED) -> list[list[tuple[str, str]]]:
    """Each session's lines: customer and agent in turn, from one scenario, cycled."""
    talks: list[tuple[list[str], list[str]]] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        turns = [t for t in load_scenario(path).turns if t.type == "utterance" and t.text.strip()]
        said = [t.text for t in turns if t.speaker == "customer"]
        replies = [t.text for t in turns if t.speaker == "agent"] or list(AGENT_LINES)
        if said:
            talks.append((said, replies))
    rng = random.Random(seed)
    rng.shuffle(talks)
    out = []
    for i in range(count):
        said, replies = talks[i % len(talks)]
        lines: list[tuple[str, str]] = []
        if i % 2 == 0:
            phone = STORY_PHONES[(i // 2) % len(STORY_PHONES)]
            lines.append(("customer", f"Hi, my number is {phone}. I have a question."))
            lines.append(("agent", "Thanks, give me a moment to find your account."))
        for n in range(max(len(said), len(replies))):
            lines.append(("customer", said[n % len(said)]))
            lines.append(("agent", replies[n % len(replies)]))
        out.append(lines)
    return out


@dataclass
class _Session:
    index: int
    lines: list[tuple[str, str]]
    sent_at: dict[str, float] = field(default_factory=dict)
    acked: set[str] = field(default_factory=set)
    arrived: dict[str, float] = field(default_factory=dict)
    waiting: dict[str, asyncio.Future[float]] = field(default_factory=dict)
    engine_ms: list[float] = field(default_factory=list)
    version: int | None = None
    gaps: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    closing: bool = False

    def seen(self, update: dict[str, Any], at: float) -> None:
        """A panel update from the stream: the first is the snapshot; then versions go +1."""
        version = int(update["version"])
        if self.version is None:
            self.version = version
            self.ready.set()
            return
        if version != self.version + 1:
            self.gaps += 1
        self.version = max(self.version, version)
        if update.get("source") == "fast":
            event_id = str(update["event_id"])
            self.arrived.setdefault(event_id, at)
            waiter = self.waiting.get(event_id)
            if waiter is not None and not waiter.done():
                waiter.set_result(at)


def parse_sse(lines: Sequence[str]) -> Iterator[tuple[str, str]]:
    """(event, data) for each event in SSE lines; comments, ids and retry lines are skipped."""
    kind = "message"
    data: list[str] = []
    for line in lines:
        if line == "":
            if data:
                yield kind, "\n".join(data)
            kind, data = "message", []
        elif line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data.append(line[5:].removeprefix(" "))


async def _follow(client: httpx.AsyncClient, sid: str, s: _Session, errors: list[str]) -> None:
    """Read the session's stream until cancelled; an end the client did not ask for is an error."""
    timeout = httpx.Timeout(TIMEOUT_S, read=60.0)  # the server pings every 15 s
    try:
        async with client.stream("GET", f"/v1/sessions/{sid}/stream", timeout=timeout) as resp:
            if resp.status_code != 200:
                await resp.aread()
                errors.append(f"stream: HTTP {resp.status_code} {resp.text[:120]}")
                return
            block: list[str] = []
            async for line in resp.aiter_lines():
                if line:
                    block.append(line)
                    continue
                at = time.perf_counter()
                for kind, data in parse_sse([*block, ""]):
                    if kind == "panel_update":
                        s.seen(json.loads(data), at)
                block = []
        if not s.closing:
            errors.append("stream: ended by the server")
    except httpx.HTTPError as exc:
        if not s.closing:
            errors.append(f"stream: {type(exc).__name__} {str(exc)[:120]}".rstrip())


async def _post(
    client: httpx.AsyncClient, sid: str, s: _Session, n: int, errors: list[str]
) -> float:
    """One line, its future update registered first (the update may beat the 202 back)."""
    speaker, text = s.lines[n % len(s.lines)]
    event_id = f"b{s.index}-{n}"
    s.waiting[event_id] = asyncio.get_running_loop().create_future()
    body = {"event_id": event_id, "type": "utterance", "speaker": speaker, "text": text}
    started = time.perf_counter()
    s.sent_at[event_id] = started
    try:
        resp = await client.post(f"/v1/sessions/{sid}/events", json=body)
    except httpx.HTTPError as exc:
        errors.append(f"post event: {type(exc).__name__} {str(exc)[:120]}".rstrip())
        return started
    if resp.status_code != 202:
        errors.append(f"post event: HTTP {resp.status_code} {resp.text[:120]}")
        return started
    ack = resp.json()
    if ack.get("duplicate"):
        errors.append("post event: a fresh event_id answered as a duplicate")
        return started
    s.acked.add(event_id)
    if ack.get("latency_ms") is not None:
        s.engine_ms.append(float(ack["latency_ms"]))
    return started


async def _session(
    client: httpx.AsyncClient,
    s: _Session,
    start_at: float,
    stop_at: float,
    think: tuple[float, float],
    errors: list[str],
) -> None:
    loop = asyncio.get_running_loop()
    rng = random.Random(SEED * 1000 + s.index)
    await asyncio.sleep(max(0.0, start_at - loop.time()))
    try:
        resp = await client.post("/v1/sessions", json={"channel": "chat"})
    except httpx.HTTPError as exc:
        errors.append(f"create session: {type(exc).__name__} {str(exc)[:120]}".rstrip())
        return
    if resp.status_code != 201:
        errors.append(f"create session: HTTP {resp.status_code} {resp.text[:120]}")
        return
    sid = str(resp.json()["session_id"])
    reader = asyncio.create_task(_follow(client, sid, s, errors))
    try:
        ready = asyncio.create_task(s.ready.wait())
        await asyncio.wait({ready, reader}, timeout=TIMEOUT_S, return_when="FIRST_COMPLETED")
        ready.cancel()
        if not s.ready.is_set():
            if not reader.done():
                errors.append(f"stream: no snapshot within {TIMEOUT_S:g} s")
            return
        n, last = 0, loop.time()
        while True:
            await _post(client, sid, s, n, errors)
            n, last = n + 1, loop.time()
            wake = last + rng.uniform(*think)
            if wake >= stop_at:
                break
            await asyncio.sleep(wake - loop.time())
        pending = [s.waiting[e] for e in s.acked if not s.waiting[e].done()]
        if pending:
            await asyncio.wait(pending, timeout=max(0.0, last + TIMEOUT_S - loop.time()))
    finally:
        s.closing = True
        reader.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await reader


def _cpu_s(pid: int) -> float:
    """User plus system CPU seconds of a process, its threads included."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    use = resource.getrusage(resource.RUSAGE_SELF)
    return use.ru_utime + use.ru_stime


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return math.nan


def ramp_window(seconds: float, ramp: float | None) -> tuple[float, float]:
    """(ramp, posting window) of a level: without a ramp, today's fixed stagger (at most a third
    of the level) inside `seconds`; with one, each session posts `seconds` from its own start."""
    if ramp is None:
        return min(STAGGER_S, seconds / 3), seconds
    return ramp, ramp + seconds


async def _level(
    base: str,
    pid: int,
    sessions: int,
    seconds: float,
    think: tuple[float, float],
    ramp: float | None = None,
) -> Row:
    limits = httpx.Limits(max_connections=2 * sessions + 10, max_keepalive_connections=sessions)
    timeout = httpx.Timeout(30.0, connect=TIMEOUT_S)
    headers = {"Authorization": f"Bearer {KEY}"}
    errors: list[str] = []
    people = [_Session(i, lines) for i, lines in enumerate(scripts(sessions))]
    rng = random.Random(SEED)
    loop = asyncio.get_running_loop()
    stagger, window = ramp_window(seconds, ramp)
    cpu: list[float] = []

    async def meter() -> None:
        """CPU over the posting window, not the drain after it: cores busy under the load."""
        start = (_cpu_s(pid), _own_cpu_s())
        await asyncio.sleep(window)
        cpu.extend(((_cpu_s(pid) - start[0]) / window, (_own_cpu_s() - start[1]) / window))

    def stop(start_at: float, t0: float) -> float:
        return t0 + seconds if ramp is None else start_at + seconds

    async with httpx.AsyncClient(
        base_url=base, headers=headers, limits=limits, timeout=timeout
    ) as client:
        t0, t0_perf = loop.time(), time.perf_counter()
        metering = asyncio.create_task(meter())
        starts = [t0 + rng.uniform(0, stagger) for _ in people]
        await asyncio.gather(
            *(
                _session(client, s, at, stop(at, t0), think, errors)
                for s, at in zip(people, starts, strict=True)
            )
        )
        await metering
    steady_from = t0_perf + stagger + STEADY_AFTER_S  # sent_at is on the perf_counter clock
    latencies, lost, late, first, last = [], 0, 0, math.inf, -math.inf
    steady: list[float] = []
    firsts: list[bool] = []
    steady_lost = 0
    for s in people:
        for event_id in s.acked:
            sent, got = s.sent_at[event_id], s.arrived.get(event_id)
            first = min(first, sent)
            if got is None or got - sent > TIMEOUT_S:
                lost += 1
                steady_lost += sent >= steady_from
            if got is not None:
                late += got - sent > TIMEOUT_S
                latencies.append((got - sent) * 1000)
                firsts.append(event_id == f"b{s.index}-0")
                if sent >= steady_from:
                    steady.append((got - sent) * 1000)
                last = max(last, got)
    gaps = sum(s.gaps for s in people)
    return Row(
        sessions=sessions,
        seconds=max(0.0, last - first),
        sent=sum(len(s.sent_at) for s in people),
        delivered=sum(len(s.acked) for s in people) - lost,
        latencies_ms=latencies,
        engine_ms=[ms for s in people for ms in s.engine_ms],
        errors=errors,
        lost=lost + gaps,
        late=late,
        gaps=gaps,
        rss_mib=rss_mib(pid),
        server_cpu=cpu[0],
        client_cpu=cpu[1],
        ramp_s=stagger,
        steady_ms=steady,
        steady_lost=steady_lost,
        firsts=firsts,
    )


def check_inputs(data_dir: Path, kb_dir: Path) -> None:
    """FileNotFoundError, saying how to make it, when the data or the knowledge base is missing."""
    if not all((data_dir / f"{s}.db").is_file() for s in ("crm", "billing", "orders")):
        raise FileNotFoundError(
            f"no demo data in {data_dir}: create it with `copilot data generate --customers 2000 "
            f"--seed 42 --out {EVAL_DATA}` (or point COPILOT_DATA_DIR at a generated folder)"
        )
    if not (kb_dir / "chroma.sqlite3").is_file():
        raise FileNotFoundError(
            f"no knowledge base in {kb_dir}: create it with "
            "`copilot kb ingest tools/kb/articles/brightwave`"
        )


def _copilot() -> list[str]:
    script = Path(sys.executable).parent / "copilot"
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-c", "from server.cli import app; app()"]


def _tail(log: Path, lines: int = 15) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


def scratch_env(data_dir: Path, kb_dir: Path, scratch: Path, name: str) -> dict[str, str]:
    """A scratch folder for one `copilot serve`: a copy of the systems' databases and a key
    file with KEY; the environment that points the server at them (its sessions.db then lands
    in scratch)."""
    data = scratch / "data"
    data.mkdir(parents=True)
    for db in ("crm", "billing", "orders"):
        shutil.copy2(data_dir / f"{db}.db", data / f"{db}.db")
    keys = scratch / "keys.yaml"
    keys.write_text(yaml.safe_dump({KEY: {"role": "agent", "tenant": "brightwave", "name": name}}))
    keys.chmod(0o600)
    # Only what this run sets: no LLM endpoint or other backend leaks in from the shell.
    env = {k: v for k, v in os.environ.items() if not k.startswith("COPILOT_")}
    env |= {
        "COPILOT_DATA_DIR": str(data),
        "COPILOT_KB_DIR": str(kb_dir.resolve()),
        "COPILOT_API_KEYS_FILE": str(keys),
    }
    env.setdefault("HF_HUB_OFFLINE", "1")
    return env


@contextlib.contextmanager
def serve(data_dir: Path, kb_dir: Path, scratch: Path) -> Iterator[tuple[str, int]]:
    """A `copilot serve` process over a copy of the data (its sessions.db lands in scratch)."""
    env = scratch_env(data_dir, kb_dir, scratch, "bench")
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = scratch / "server.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
            [*_copilot(), "serve", "--host", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
    try:
        deadline = time.monotonic() + READY_S
        with httpx.Client(base_url=base, timeout=2.0) as probe:
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(
                        f"the server exited with {proc.returncode} before it was ready:\n"
                        + _tail(log)
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if probe.get("/readyz").status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server was not ready in {READY_S:g} s:\n{_tail(log)}")
                time.sleep(0.2)
        yield base, proc.pid
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}:\n{_tail(log)}")
    finally:
        stop(proc)


def run(
    levels: Sequence[int],
    seconds: float,
    data_dir: Path,
    kb_dir: Path,
    think: tuple[float, float] = THINK_S,
    say: Callable[[str], None] | None = None,
    ramp: float | None = None,
) -> list[Row]:
    """Each level in turn against a fresh server process; one row per level. `ramp`: spread the
    session starts over that many seconds, each session then posting `seconds` (None: STAGGER_S,
    at most a third of `seconds`, inside `seconds`)."""
    check_inputs(data_dir, kb_dir)
    rows = []
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        for sessions in levels:
            scratch = Path(tmp) / f"level-{sessions}"
            if say:
                say(f"{sessions} sessions: starting a fresh server")
            with serve(data_dir, kb_dir, scratch) as (base, pid):
                if say:
                    stagger, window = ramp_window(seconds, ramp)
                    say(
                        f"{sessions} sessions: {window:g} s of conversation, "
                        f"starts over {stagger:.3g} s"
                    )
                rows.append(asyncio.run(_level(base, pid, sessions, seconds, think, ramp)))
    return rows


def verdicts(rows: Sequence[Row]) -> list[tuple[str, bool | None, str]]:
    """(target, met, what was measured); met is None where the run did not measure it."""
    target = f"p95 <= {TARGET_P95_MS:g} ms at {TARGET_AT} sessions"
    at = next((r for r in rows if r.sessions == TARGET_AT), None)
    out: list[tuple[str, bool | None, str]] = []
    if at is None:
        out.append((target, None, f"not measured: no {TARGET_AT}-session level in this run"))
    else:
        # Lost updates have no latency: a p95 over what did arrive cannot pass on its own.
        met = bool(at.latencies_ms) and at.p95 <= TARGET_P95_MS and at.lost == 0
        measured = f"p95 {at.p95:,.0f} ms over {len(at.latencies_ms)} updates"
        if at.lost:
            measured += f", {at.lost} lost besides"
        out.append((target, met, measured))
    errors = sum(len(r.errors) for r in rows)
    where = ", ".join(f"{len(r.errors)} at {r.sessions}" for r in rows if r.errors)
    out.append(("zero errors", errors == 0, f"{errors} errors" + (f" ({where})" if where else "")))
    lost = sum(r.lost for r in rows)
    where = ", ".join(
        f"{r.lost} at {r.sessions} ({r.late} late, {r.missing} never seen, {r.gaps} gaps)"
        for r in rows
        if r.lost
    )
    out.append(("zero lost updates", lost == 0, f"{lost} lost" + (f": {where}" if where else "")))
    return out


def steady_verdict(rows: Sequence[Row]) -> tuple[str, bool | None, str]:
    """The latency target over the steady state only: events posted STEADY_AFTER_S after the ramp
    ended, when every session has started and the first events' backlog had time to clear."""
    target = (
        f"steady-state p95 <= {TARGET_P95_MS:g} ms at {TARGET_AT} sessions "
        f"(events after the ramp + {STEADY_AFTER_S:g} s)"
    )
    at = next((r for r in rows if r.sessions == TARGET_AT), None)
    if at is None:
        return target, None, f"not measured: no {TARGET_AT}-session level in this run"
    if at.steady_p95 is None:
        return target, None, "not measured: no event was posted in the steady state"
    met = at.steady_p95 <= TARGET_P95_MS and at.steady_lost == 0
    measured = f"steady p95 {at.steady_p95:,.0f} ms over {at.steady_n} updates"
    if at.steady_lost:
        measured += f", {at.steady_lost} lost besides"
    return target, met, measured
