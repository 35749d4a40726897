"""Counters and histograms in the Prometheus text format, kept in process."""

from __future__ import annotations

import bisect
import os
import socket
import time
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


Families = dict[str, tuple[str, list[str]]]  # name: (type, sample lines)


def worker_id() -> str:
    """This worker among all of them, on every host: host:pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def _labels(**pairs: str) -> str:
    inner = ",".join(f'{k}="{_escape(v)}"' for k, v in pairs.items())
    return f"{{{inner}}}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_MS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, ms: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_MS, ms)] += 1
        self.total += ms
        self.n += 1

    def lines(self, name: str, worker: str) -> list[str]:
        out, running = [], 0
        for bound, count in zip((*BUCKETS_MS, "+Inf"), self.counts, strict=True):
            running += count
            out.append(f"{name}_bucket{_labels(worker=worker, le=str(bound))} {running}")
        mine = _labels(worker=worker)
        return [*out, f"{name}_sum{mine} {self.total:.3f}", f"{name}_count{mine} {self.n}"]


class Metrics:
    """One worker's counters; every series carries its `worker` label (host:pid)."""

    def __init__(self, worker: str | None = None) -> None:
        self._worker = worker
        self.requests: Counter[tuple[str, int]] = Counter()
        self.events = 0
        self.updates: Counter[str] = Counter()
        self.panel_latency = Histogram()
        self.request_latency = Histogram()

    @property
    def worker(self) -> str:
        return self._worker or worker_id()  # read late: a worker process may be forked later

    def families(self, gauges: dict[str, float], counters: dict[str, float]) -> Families:
        w = self.worker
        out: Families = {
            "copilot_http_requests_total": (
                "counter",
                [
                    f"copilot_http_requests_total{_labels(worker=w, method=m, status=str(s))} {n}"
                    for (m, s), n in sorted(self.requests.items())
                ],
            ),
            "copilot_events_total": (
                "counter",
                [f"copilot_events_total{_labels(worker=w)} {self.events}"],
            ),
            "copilot_panel_updates_total": (
                "counter",
                [
                    f"copilot_panel_updates_total{_labels(worker=w, source=k)} {v}"
                    for k, v in sorted(self.updates.items())
                ],
            ),
            "copilot_event_to_panel_ms": (
                "histogram",
                self.panel_latency.lines("copilot_event_to_panel_ms", w),
            ),
            "copilot_http_request_ms": (
                "histogram",
                self.request_latency.lines("copilot_http_request_ms", w),
            ),
        }
        for kind, values in (("gauge", gauges), ("counter", counters)):
            for name, value in sorted(values.items()):
                out[name] = (kind, [f"{name}{_labels(worker=w)} {value}"])
        return out


def render(*workers: Families) -> str:
    """Prometheus text format: each family once, with every worker's samples under it."""
    merged: Families = {}
    for families in workers:
        for name, (kind, samples) in families.items():
            merged.setdefault(name, (kind, []))[1].extend(samples)
    lines: list[str] = []
    for name, (kind, samples) in merged.items():
        lines += [f"# TYPE {name} {kind}", *samples]
    return "\n".join(lines) + "\n"


class Measured:
    """ASGI middleware: counts requests by method and status, and times them."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500

        async def tracked(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        finally:
            self.metrics.requests[(scope["method"], status)] += 1
            if not scope["path"].endswith("/stream"):
                self.metrics.request_latency.observe((time.perf_counter() - started) * 1000)
