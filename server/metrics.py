"""Counters and histograms in the Prometheus text format, kept in process."""

from __future__ import annotations

import bisect
import time
from collections import Counter

from starlette.types import ASGIApp, Message, Receive, Scope, Send

BUCKETS_MS = (5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000)


class Histogram:
    def __init__(self) -> None:
        self.counts = [0] * (len(BUCKETS_MS) + 1)
        self.total = 0.0
        self.n = 0

    def observe(self, ms: float) -> None:
        self.counts[bisect.bisect_left(BUCKETS_MS, ms)] += 1
        self.total += ms
        self.n += 1

    def lines(self, name: str) -> list[str]:
        out, running = [], 0
        for bound, count in zip((*BUCKETS_MS, "+Inf"), self.counts, strict=True):
            running += count
            out.append(f'{name}_bucket{{le="{bound}"}} {running}')
        return [*out, f"{name}_sum {self.total:.3f}", f"{name}_count {self.n}"]


class Metrics:
    def __init__(self) -> None:
        self.requests: Counter[tuple[str, int]] = Counter()
        self.events = 0
        self.updates: Counter[str] = Counter()
        self.panel_latency = Histogram()
        self.request_latency = Histogram()

    def render(self, gauges: dict[str, float]) -> str:
        lines = ["# TYPE copilot_http_requests_total counter"]
        lines += [
            f'copilot_http_requests_total{{method="{m}",status="{s}"}} {n}'
            for (m, s), n in sorted(self.requests.items())
        ]
        lines += ["# TYPE copilot_events_total counter", f"copilot_events_total {self.events}"]
        lines += ["# TYPE copilot_panel_updates_total counter"]
        lines += [
            f'copilot_panel_updates_total{{source="{k}"}} {v}'
            for k, v in sorted(self.updates.items())
        ]
        lines += ["# TYPE copilot_event_to_panel_ms histogram"]
        lines += self.panel_latency.lines("copilot_event_to_panel_ms")
        lines += ["# TYPE copilot_http_request_ms histogram"]
        lines += self.request_latency.lines("copilot_http_request_ms")
        for name, value in sorted(gauges.items()):
            lines += [f"# TYPE {name} gauge", f"{name} {value}"]
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
