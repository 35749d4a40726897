"""Durability over a crash: kill -9 the server halfway through a burst of events, restart it on
the same files, and count what the session log kept.

The server runs as production runs it, a separate `copilot serve` process (one uvicorn worker,
the offline engine: no LLM) in its own process group, over a copy of the demo data in a
temporary folder, so its sessions.db starts empty and can be reopened by a second process. One
asyncio client per session posts that session's utterances in order, as fast as the 202s come
back (lines from evals/scenarios, customer and agent in turn, as `copilot bench load` takes
them). Every event has a fixed event_id, so a client whose request failed (connection error,
timeout, 5xx, 429) posts the same event again, with backoff, until it is answered or
RETRY_CAP_S has passed since its first try: a retry is idempotent by contract.

When `kill_at` of the events are acknowledged the whole server process group gets SIGKILL and a
new server starts on the same data folder and port (a new port only if that one cannot be bound
again; clients follow). Once every event is answered, each session's panel is read over HTTP,
the server is stopped with SIGTERM (SIGKILL after STOP_GRACE_S, which is reported) and the
`events` table of its sessions.db is read directly.

- acknowledged: a 202, first-time or duplicate. lost: acknowledged, not in the log.
- duplicated: an event_id with more than one row in the log, or answered duplicate=false twice
  (applied twice).
- version regression: a session whose panel version after the restart is lower than the highest
  version a 202 gave it before the kill; versions only grow.
- baseline: the same run on a fresh server without a kill; its "before" and "after" are the
  events posted before and after the same share of acknowledgements.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import random
import signal
import subprocess
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from rich.console import Console
from rich.table import Table
from sqlalchemy import create_engine, select

from copilot.event_log import events_table
from evals.bench import load
from evals.bench.foundation import percentile
from evals.servers import free_port

EVENTS = 1000
SESSIONS = 50
KILL_AT = 0.5
RETRY_CAP_S = 180.0  # an event is given up this long after its first try
BACKOFF_S = (0.05, 2.0)  # first and longest wait between tries
REQUEST_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0  # SIGTERM, then SIGKILL after this long
RETRYABLE = frozenset({408, 429})  # besides 5xx

Say = Callable[[str], None]
Tick = Callable[[int, int], None]


@dataclass(frozen=True)
class Ack:
    """One 202: its event, the session it went to, what the server said, and when."""

    event_id: str
    session_id: str
    duplicate: bool
    version: int | None
    ms: float  # the answered try, from just before the POST to the answer
    started: float  # monotonic time of that try's POST
    at: float  # monotonic time of the answer


@dataclass(frozen=True)
class Tally:
    """What was sent, acknowledged and stored, by distinct event_id."""

    sent: int
    acknowledged: int
    acked_duplicate: int  # acknowledged only ever as duplicate=true
    never_acked: int
    stored: int
    lost: int  # acknowledged, not stored
    stored_unacked: int  # stored, never acknowledged
    applied_twice: int  # answered duplicate=false more than once
    stored_twice: int  # more than one row in the log
    duplicated: int  # either of the two


def tally(sent: Iterable[str], acks: Iterable[Ack], stored: Iterable[tuple[str, str]]) -> Tally:
    """Count lost and duplicated events from the acks and the log's (session_id, event_id) rows;
    rows of events this run did not send are ignored."""
    ours = set(sent)
    answered: dict[str, list[bool]] = defaultdict(list)
    for a in acks:
        answered[a.event_id].append(a.duplicate)
    rows = Counter(event_id for _, event_id in stored if event_id in ours)
    acked = set(answered) & ours
    fresh = {e: sum(not d for d in answered[e]) for e in acked}
    twice_applied = {e for e, n in fresh.items() if n > 1}
    twice_stored = {e for e, n in rows.items() if n > 1}
    return Tally(
        sent=len(ours),
        acknowledged=len(acked),
        acked_duplicate=sum(1 for e in acked if fresh[e] == 0),
        never_acked=len(ours - acked),
        stored=len(rows),
        lost=len(acked - set(rows)),
        stored_unacked=len(set(rows) - acked),
        applied_twice=len(twice_applied),
        stored_twice=len(twice_stored),
        duplicated=len(twice_applied | twice_stored),
    )


@dataclass(frozen=True)
class Versions:
    """Per-session version checks; each list holds the sessions that failed one."""

    below_stored: list[str]  # panel version lower than the session's stored events
    regressed: list[str]  # panel version at the end lower than the highest acked before the mark
    backwards: list[str]  # a first-time ack whose version is not above the one acked before it
    unread: list[str]  # no panel version could be read


def check_versions(
    acks: Sequence[Ack],
    panels: dict[str, int | None],
    stored: Iterable[tuple[str, str]],
    mark: float | None,
) -> Versions:
    """Versions only grow: against the log, against what was acked before `mark` (the kill),
    and from one first-time ack of a session to the next."""
    per_session = Counter(sid for sid, _ in {(s, e) for s, e in stored})
    before: dict[str, int] = {}
    last: dict[str, int] = {}
    backwards: set[str] = set()
    for a in sorted(acks, key=lambda a: a.at):
        if a.duplicate or a.version is None:
            continue
        if mark is not None and a.at < mark:
            before[a.session_id] = max(before.get(a.session_id, a.version), a.version)
        if a.session_id in last and a.version <= last[a.session_id]:
            backwards.add(a.session_id)
        last[a.session_id] = max(last.get(a.session_id, a.version), a.version)
    below, regressed, unread = [], [], []
    for sid, version in panels.items():
        if version is None:
            unread.append(sid)
            continue
        if version < per_session.get(sid, 0):
            below.append(sid)
        if version < before.get(sid, -1):
            regressed.append(sid)
    return Versions(below, regressed, sorted(backwards), unread)


@dataclass
class Run:
    """One run (with or without a kill): everything the table and the notes need."""

    kill: bool
    events: int
    sessions: int
    kill_at: float
    sent: list[str] = field(default_factory=list)
    acks: list[Ack] = field(default_factory=list)
    stored: list[tuple[str, str]] = field(default_factory=list)
    panels: dict[str, int | None] = field(default_factory=dict)
    server_errors: list[tuple[float, int, str]] = field(default_factory=list)  # (at, status, body)
    rejected: Counter[str] = field(default_factory=Counter)  # other 4xx, not retried
    conn_errors: list[tuple[float, str]] = field(default_factory=list)  # (at, kind)
    retries: int = 0
    gave_up: list[str] = field(default_factory=list)
    mark: float | None = None  # kill (baseline: the same share of acks reached)
    ready: float | None = None  # /readyz 200 after the restart (baseline: = mark)
    start_s: float = math.nan  # first start to /readyz 200
    restart_s: float | None = None  # kill to /readyz 200
    new_port: bool = False
    clean_stop: bool = True
    stop_s: float = math.nan
    wall_s: float = math.nan
    log_tail: str = ""

    def in_outage(self, at: float) -> bool:
        return self.mark is not None and at >= self.mark and (self.ready is None or at < self.ready)

    def latencies(self, phase: str) -> list[float]:
        """Answered tries started before the mark ("before") or after the server was back."""
        out = []
        for a in self.acks:
            before = self.mark is None or a.started < self.mark
            after = self.ready is not None and a.started >= self.ready
            if (before and phase == "before") or (after and phase == "after"):
                out.append(a.ms)
        return out

    @property
    def tally(self) -> Tally:
        return tally(self.sent, self.acks, self.stored)

    @property
    def versions(self) -> Versions:
        return check_versions(self.acks, self.panels, self.stored, self.mark)

    @property
    def outage_errors(self) -> int:
        return sum(self.in_outage(at) for at, _ in self.conn_errors)

    @property
    def restart_5xx(self) -> int:
        return sum(self.in_outage(at) for at, _, _ in self.server_errors)


class ServeProcess:
    """`copilot serve` in its own process group over one scratch folder; restartable."""

    def __init__(
        self,
        data_dir: Path,
        kb_dir: Path,
        scratch: Path,
        args: Sequence[str] = (),
        extra_env: Mapping[str, str] | None = None,
    ) -> None:
        self.args = list(args)  # more `copilot serve` options (--workers 2)
        env = load.scratch_env(data_dir, kb_dir, scratch, "soak")
        self.env = env | dict(extra_env or {})
        self.db = scratch / "sessions.db"  # the server keeps it beside its data folder
        self.log = scratch / "server.log"
        self.port = free_port()
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def spawn(self) -> None:
        with self.log.open("ab") as out:
            out.write(f"--- copilot serve on port {self.port}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(  # noqa: S603 - our own CLI, fixed arguments
                [
                    *load._copilot(),
                    "serve",
                    *("--host", "127.0.0.1", "--port", str(self.port)),
                    *self.args,
                ],
                cwd=load.ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,  # its own process group: kill -9 takes all of it
            )

    def exited(self) -> int | None:
        return None if self.proc is None else self.proc.poll()

    async def ready(self, deadline: float) -> None:
        """Until /readyz answers 200; RuntimeError if the process exits or time runs out."""
        async with httpx.AsyncClient(base_url=self.base, timeout=2.0) as probe:
            while True:
                code = self.exited()
                if code is not None:
                    raise RuntimeError(
                        f"the server exited with {code} before it was ready:\n{self.tail()}"
                    )
                with contextlib.suppress(httpx.HTTPError):
                    if (await probe.get("/readyz")).status_code == 200:
                        return
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server was not ready in time:\n{self.tail()}")
                await asyncio.sleep(0.05)

    def signal(self, sig: signal.Signals) -> None:
        if self.proc is not None and self.proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, sig)

    def kill(self) -> None:
        self.signal(signal.SIGKILL)
        if self.proc is not None:
            self.proc.wait()

    def stop(self, grace: float = STOP_GRACE_S) -> bool:
        """SIGTERM, then SIGKILL after `grace` seconds; True when it exited on its own."""
        if self.proc is None or self.proc.poll() is not None:
            return True
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=grace)
            return True
        except subprocess.TimeoutExpired:
            self.kill()
            return False

    def tail(self, lines: int = 15) -> str:
        return load._tail(self.log, lines) if self.log.is_file() else ""


def plan(events: int, sessions: int) -> list[list[tuple[str, dict[str, str]]]]:
    """Each session's events in order: event i goes to session i % sessions, as soak-{i:04d}."""
    lines = load.scripts(sessions)
    out: list[list[tuple[str, dict[str, str]]]] = [[] for _ in range(sessions)]
    for i in range(events):
        mine = out[i % sessions]
        speaker, text = lines[i % sessions][len(mine) % len(lines[i % sessions])]
        event_id = f"soak-{i:04d}"
        body = {"event_id": event_id, "type": "utterance", "speaker": speaker, "text": text}
        mine.append((event_id, body))
    return out


class _Driver:
    def __init__(
        self, run: Run, server: ServeProcess, client: httpx.AsyncClient, tick: Tick | None
    ):
        self.run = run
        self.server = server
        self.client = client
        self.tick = tick
        self.acked: set[str] = set()
        self.threshold = max(1, math.ceil(run.kill_at * run.events))
        self.reached = asyncio.Event()
        self.rng = random.Random(load.SEED)

    def answered(self, ack: Ack) -> None:
        self.run.acks.append(ack)
        self.acked.add(ack.event_id)
        if len(self.acked) >= self.threshold:
            self.reached.set()
        if self.tick is not None:
            self.tick(len(self.acked), self.run.events)

    async def deliver(self, sid: str, event_id: str, body: dict[str, str]) -> None:
        loop = asyncio.get_running_loop()
        first, wait, tries = loop.time(), BACKOFF_S[0], 0
        self.run.sent.append(event_id)
        while True:
            if tries:
                self.run.retries += 1
            tries += 1
            started = loop.time()
            url = f"{self.server.base}/v1/sessions/{sid}/events"
            try:
                resp = await self.client.post(url, json=body)
            except httpx.TransportError as exc:  # timeouts included
                self.run.conn_errors.append((loop.time(), type(exc).__name__))
            else:
                now = loop.time()
                if resp.status_code == 202:
                    data: dict[str, Any] = resp.json()
                    version = data.get("version")
                    self.answered(
                        Ack(
                            event_id=event_id,
                            session_id=sid,
                            duplicate=bool(data.get("duplicate")),
                            version=None if version is None else int(version),
                            ms=(now - started) * 1000,
                            started=started,
                            at=now,
                        )
                    )
                    return
                if resp.status_code >= 500:
                    self.run.server_errors.append((now, resp.status_code, resp.text[:160]))
                elif resp.status_code not in RETRYABLE:
                    self.run.rejected[f"HTTP {resp.status_code} {resp.text[:120]}"] += 1
                    return
            if loop.time() - first > RETRY_CAP_S:
                self.run.gave_up.append(event_id)
                return
            await asyncio.sleep(wait * self.rng.uniform(0.5, 1.0))
            wait = min(wait * 2, BACKOFF_S[1])

    async def session(self, sid: str, items: list[tuple[str, dict[str, str]]]) -> None:
        for event_id, body in items:
            await self.deliver(sid, event_id, body)

    async def crash(self, say: Say | None) -> None:
        """At the threshold: SIGKILL the server, start it again on the same files."""
        await self.reached.wait()
        loop = asyncio.get_running_loop()
        self.run.mark = loop.time()
        if not self.run.kill:
            self.run.ready = self.run.mark
            return
        if say:
            say(f"{len(self.acked)} of {self.run.events} acknowledged: kill -9 the server")
        self.server.kill()
        if say:
            say("killed; restarting on the same sessions.db and port")
        self.server.spawn()
        try:
            await self.server.ready(time.monotonic() + load.READY_S)
        except RuntimeError:
            if "address already in use" not in self.server.tail().lower():
                raise
            self.server.kill()
            self.server.port = free_port()
            self.run.new_port = True
            self.server.spawn()
            await self.server.ready(time.monotonic() + load.READY_S)
        self.run.ready = loop.time()
        self.run.restart_s = self.run.ready - self.run.mark
        if say:
            say(f"back in {self.run.restart_s:.1f} s; clients retrying")


async def _drive(run: Run, server: ServeProcess, say: Say | None, tick: Tick | None) -> None:
    limits = httpx.Limits(max_connections=run.sessions + 10, max_keepalive_connections=run.sessions)
    timeout = httpx.Timeout(REQUEST_TIMEOUT_S, connect=5.0)
    headers = {"Authorization": f"Bearer {load.KEY}"}
    async with httpx.AsyncClient(headers=headers, limits=limits, timeout=timeout) as client:
        sids = []
        for _ in range(run.sessions):
            resp = await client.post(f"{server.base}/v1/sessions", json={"channel": "chat"})
            if resp.status_code != 201:
                raise RuntimeError(f"create session: HTTP {resp.status_code} {resp.text[:160]}")
            sids.append(str(resp.json()["session_id"]))
        driver = _Driver(run, server, client, tick)
        if say:
            say(
                f"{run.events} events into {run.sessions} sessions"
                + (f", kill -9 at {run.kill_at:.0%}" if run.kill else ", no kill")
            )
        crash = asyncio.create_task(driver.crash(say))
        items = plan(run.events, run.sessions)
        clients = asyncio.gather(*(driver.session(s, i) for s, i in zip(sids, items, strict=True)))
        both: list[asyncio.Future[Any]] = [crash, clients]
        await asyncio.wait(both, return_when=asyncio.FIRST_EXCEPTION)
        if crash.done() and crash.exception() is not None:  # the restart failed: stop posting
            clients.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await clients
            await crash  # raises its error
        await clients
        if not crash.done():  # the threshold was never reached (too many events refused)
            crash.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await crash
        if say:
            say("reading each session's panel")
        for sid in sids:
            try:
                resp = await client.get(f"{server.base}/v1/sessions/{sid}/panel")
                ok = resp.status_code == 200
                run.panels[sid] = int(resp.json()["version"]) if ok else None
            except (httpx.HTTPError, ValueError, KeyError):
                run.panels[sid] = None


def read_log(db: Path, sessions: Sequence[str]) -> list[tuple[str, str]]:
    """(session_id, event_id) of every row the server's events table holds for these sessions."""
    engine = create_engine(f"sqlite:///{db}")
    try:
        c = events_table.c
        with engine.connect() as conn:
            rows = conn.execute(
                select(c.session_id, c.event_id).where(c.session_id.in_(list(sessions)))
            )
            return [(str(s), str(e)) for s, e in rows]
    finally:
        engine.dispose()


def soak(
    data_dir: Path,
    kb_dir: Path,
    scratch: Path,
    events: int = EVENTS,
    sessions: int = SESSIONS,
    kill: bool = True,
    kill_at: float = KILL_AT,
    say: Say | None = None,
    tick: Tick | None = None,
) -> Run:
    """One run against a fresh server in `scratch`; kill -9 it at `kill_at` when `kill`."""
    run = Run(kill=kill, events=events, sessions=sessions, kill_at=kill_at)
    server = ServeProcess(data_dir, kb_dir, scratch)
    began = time.monotonic()
    try:
        if say:
            say("starting a fresh server")
        server.spawn()
        asyncio.run(server.ready(time.monotonic() + load.READY_S))
        run.start_s = time.monotonic() - began
        asyncio.run(_drive(run, server, say, tick))
        if server.exited() is not None:
            raise RuntimeError(f"the server exited with {server.exited()}:\n{server.tail()}")
        if say:
            say("stopping the server (SIGTERM)")
        stopping = time.monotonic()
        run.clean_stop = server.stop()
        run.stop_s = time.monotonic() - stopping
    finally:
        server.kill()
    run.wall_s = time.monotonic() - began
    run.stored = read_log(server.db, list(run.panels))
    run.log_tail = server.tail(40)
    return run


def run(
    data_dir: Path,
    kb_dir: Path,
    events: int = EVENTS,
    sessions: int = SESSIONS,
    kill_at: float = KILL_AT,
    baseline: bool = True,
    kill: bool = True,
    say: Say | None = None,
    tick: Tick | None = None,
) -> list[Run]:
    """The no-kill baseline (when `baseline`), then the kill run (when `kill`), each on a fresh
    server; FileNotFoundError when the demo data or the knowledge base is missing."""
    load.check_inputs(data_dir, kb_dir)
    out = []
    with tempfile.TemporaryDirectory(prefix="bench-soak-") as tmp:
        for name, killing in (("baseline", False), ("kill", True)):
            if (killing and not kill) or (not killing and not baseline):
                continue

            def said(line: str, name: str = name) -> None:
                if say:
                    say(f"{name}: {line}")

            out.append(
                soak(
                    data_dir,
                    kb_dir,
                    Path(tmp) / name,
                    events,
                    sessions,
                    killing,
                    kill_at,
                    said,
                    tick,
                )
            )
    return out


# --- the report ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    figure: str
    values: list[str]  # one per run, in the runs' order
    target: str
    missed: list[bool]  # per run: a target this run missed


def _ms(values: list[float], pct: float) -> str:
    return f"{percentile(values, pct):,.0f}" if values else "-"


def lines(runs: Sequence[Run]) -> list[Line]:
    """The table's rows: one value per run."""
    t = [r.tally for r in runs]
    v = [r.versions for r in runs]

    def count(name: str, values: list[int], target: str = "", zero: bool = False) -> Line:
        return Line(name, [f"{n:,}" for n in values], target, [zero and n > 0 for n in values])

    def secs(value: float | None) -> str:
        return "-" if value is None or math.isnan(value) else f"{value:,.1f}"

    return [
        count("events sent (distinct ids)", [x.sent for x in t]),
        count("acknowledged (202, any)", [x.acknowledged for x in t]),
        count("  only as duplicate=true", [x.acked_duplicate for x in t]),
        count("never acknowledged", [x.never_acked for x in t], "0", True),
        count("stored (distinct, sessions.db)", [x.stored for x in t]),
        count("lost (acked, not stored)", [x.lost for x in t], "0", True),
        count("duplicated (2 rows/applied 2x)", [x.duplicated for x in t], "0", True),
        count("stored, never acked", [x.stored_unacked for x in t]),
        count("5xx answers", [len(r.server_errors) for r in runs], "0", True),
        count("  of which while restarting", [r.restart_5xx for r in runs]),
        count("other 4xx (not retried)", [r.rejected.total() for r in runs], "0", True),
        count("conn. errors during outage", [r.outage_errors for r in runs]),
        count(
            "conn. errors outside outage",
            [len(r.conn_errors) - r.outage_errors for r in runs],
            "0",
            True,
        ),
        count("retries", [r.retries for r in runs]),
        Line("ack p50 ms, before kill", [_ms(r.latencies("before"), 50) for r in runs], "", []),
        Line("ack p95 ms, before kill", [_ms(r.latencies("before"), 95) for r in runs], "", []),
        Line("ack p50 ms, after restart", [_ms(r.latencies("after"), 50) for r in runs], "", []),
        Line("ack p95 ms, after restart", [_ms(r.latencies("after"), 95) for r in runs], "", []),
        Line("start to /readyz 200 (s)", [secs(r.start_s) for r in runs], "", []),
        Line("restart: kill to /readyz (s)", [secs(r.restart_s) for r in runs], "", []),
        count("sessions: version < stored", [len(x.below_stored) for x in v], "0", True),
        count(
            "sessions: version regressed",
            [len(x.regressed) for x in v],
            "0",
            True,
        ),
        count("sessions: acked versions fell", [len(x.backwards) for x in v], "0", True),
        count("sessions: panel unreadable", [len(x.unread) for x in v], "0", True),
        Line(
            f"clean stop (SIGTERM, {STOP_GRACE_S:g} s)",
            [f"yes, {r.stop_s:.1f} s" if r.clean_stop else "NO, killed" for r in runs],
            "yes",
            [not r.clean_stop for r in runs],
        ),
        Line("wall time (s)", [secs(r.wall_s) for r in runs], "", []),
    ]


def _name(r: Run) -> str:
    return f"kill -9\nat {r.kill_at:.0%}" if r.kill else "baseline\nno kill"


def _short(r: Run) -> str:
    return "kill run" if r.kill else "baseline"


def report(console: Console, runs: Sequence[Run]) -> None:
    """The kill run beside the baseline, then the notes and the findings."""
    ordered = sorted(runs, key=lambda r: not r.kill)  # the kill run first, the baseline beside it
    first = ordered[0]
    table = Table(
        "figure",
        *(_name(r) for r in ordered),
        "target",
        "verdict",
        title=f"durability: {first.events:,} events into {first.sessions} sessions over HTTP, "
        "a fresh `copilot serve` per run",
    )
    for line in lines(ordered):
        cells = [
            f"[bold red]{v}[/]" if line.missed and line.missed[i] else v
            for i, v in enumerate(line.values)
        ]
        if not line.target:
            verdict = ""
        elif not any(line.missed):
            verdict = "[green]met[/]"
        else:
            which = [_short(r) for r, m in zip(ordered, line.missed, strict=True) if m]
            verdict = "[bold red]TARGET MISSED[/]\n" + ", ".join(which)
        table.add_row(line.figure, *cells, line.target, verdict)
    console.print(table)

    def say(text: str) -> None:
        console.print(text, markup=False, highlight=False, soft_wrap=True)

    say(
        f"one client per session posts its events in order, no think time; a failed try "
        f"(connection error, timeout, 5xx, 408/429) is retried with the same event_id, backoff "
        f"{BACKOFF_S[0]:g}-{BACKOFF_S[1]:g} s, for up to {RETRY_CAP_S:g} s. ack latency: the "
        "answered try, before the POST to its 202; 'before'/'after': tries started before the "
        "kill / after /readyz answered 200 again (baseline: before/after the same share of "
        "acks). panel versions: GET /v1/sessions/{id}/panel after the last event; log: the "
        "events table of the server's sessions.db, read after it stopped."
    )
    for r in ordered:
        name = _short(r)
        t, v = r.tally, r.versions
        if r.new_port:
            say(f"{name}: the old port could not be bound again; restarted on a new port")
        if not r.clean_stop:
            say(
                f"{name}: FINDING: the server did not exit within {STOP_GRACE_S:g} s of SIGTERM "
                "and was SIGKILLed"
            )
        if t.applied_twice or t.stored_twice:
            say(f"{name}: {t.applied_twice} applied twice, {t.stored_twice} stored twice")
        for at, status, body in r.server_errors[:5]:
            when = "while restarting" if r.in_outage(at) else "server up"
            say(f"{name}: 5xx ({when}): HTTP {status} {body}")
        for kind, n in r.rejected.most_common(5):
            say(f"{name}: {n} x {kind}")
        kinds = Counter(kind for _, kind in r.conn_errors)
        if kinds:
            say(
                f"{name}: connection errors: "
                + ", ".join(f"{n} x {k}" for k, n in kinds.most_common())
            )
        if r.gave_up:
            say(
                f"{name}: gave up on {len(r.gave_up)} events after {RETRY_CAP_S:g} s: "
                f"{r.gave_up[:5]}"
            )
        lost = sorted({a.event_id for a in r.acks} - {e for _, e in r.stored})
        if lost:
            say(f"{name}: lost event_ids (first 10): {lost[:10]}")
        for label, sids in (
            ("panel version below stored events", v.below_stored),
            ("version after restart below the highest acked before the kill", v.regressed),
            ("acked versions not increasing", v.backwards),
        ):
            if sids:
                say(f"{name}: {label}: {len(sids)} sessions, e.g. " + _version_story(r, sids[0]))
    missed = [line.figure.strip() for line in lines(ordered) if any(line.missed)]
    if missed:
        console.print(
            "[bold red]target missed:[/] " + "; ".join(missed), highlight=False, soft_wrap=True
        )
    else:
        console.print("[green]every target met[/]", highlight=False)


def _version_story(r: Run, sid: str) -> str:
    """One session's versions: acked before the kill, after it, and its panel at the end."""
    fresh = [
        a for a in sorted(r.acks, key=lambda a: a.at) if a.session_id == sid and not a.duplicate
    ]
    before = [a.version for a in fresh if r.mark is None or a.at < r.mark]
    after = [a.version for a in fresh if r.mark is not None and a.at >= r.mark]
    stored = sum(1 for s, _ in r.stored if s == sid)
    return (
        f"{sid}: acked versions before {before[-5:]}, after {after[:5]}, panel at the end "
        f"{r.panels.get(sid)}, {stored} events stored"
    )
