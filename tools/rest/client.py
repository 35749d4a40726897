"""One system's HTTP client: pooled connections, timeouts, bounded retries, a circuit breaker."""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections.abc import Callable, Mapping
from typing import Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import TypeAdapter, ValidationError

from tools.errors import ConfigurationError, InvalidInput, SystemUnavailable

T = TypeVar("T")
BreakerState = Literal["closed", "open", "half_open"]
MAX_BACKOFF_S = 2.0
MAX_MESSAGE = 300

_log = logging.getLogger(__name__)


class CircuitBreaker:
    """Opens after `threshold` failed attempts in a row; after `reset_s` one trial may go."""

    def __init__(
        self, threshold: int = 5, reset_s: float = 10.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if threshold < 1 or reset_s < 0:
            raise ValueError("threshold must be at least 1 and reset_s not negative")
        self.threshold = threshold
        self.reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial = False

    @property
    def state(self) -> BreakerState:
        """closed: calls flow; open: calls rejected; half_open: one trial call may go."""
        if self._opened_at is None:
            return "closed"
        return "half_open" if self._trial or self.retry_in() == 0 else "open"

    def retry_in(self) -> float:
        """Seconds until an open breaker lets a trial call through (0 when it would now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self.reset_s - self._clock())

    @property
    def trial_in_flight(self) -> bool:
        """Whether a half-open trial call is out; right after allow() it is the caller's."""
        return self._trial

    def allow(self) -> bool:
        """Whether a call may go out now; half-open lets exactly one trial at a time."""
        if self._opened_at is None:
            return True
        if self._trial or self.retry_in() > 0:
            return False
        self._trial = True
        return True

    def record_success(self) -> None:
        """The system answered: close the breaker and forget past failures."""
        self._failures = 0
        self._opened_at = None
        self._trial = False

    def record_failure(self) -> None:
        """The system failed an attempt: count it, and (re)open at the threshold or on a trial."""
        self._failures += 1
        if self._trial or self._failures >= self.threshold:
            self._opened_at = self._clock()
        self._trial = False

    def release(self) -> None:
        """Hand back a trial slot whose call ended without a verdict (it was cancelled)."""
        self._trial = False


def segment(value: str) -> str:
    """A validated identifier quoted to stand as exactly one URL path segment."""
    return quote(value, safe="")


class RestClient:
    """Talks JSON to one system's service over a pooled httpx.AsyncClient; not thread-safe."""

    def __init__(
        self,
        system: str,
        base_url: str,
        *,
        token: str | None = None,
        timeout_s: float = 2.0,
        retries: int = 2,
        backoff_s: float = 0.05,
        breaker: CircuitBreaker | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        url = httpx.URL(base_url)
        if url.scheme not in ("http", "https") or not url.host:
            raise ConfigurationError(f"{system}: service URL {base_url!r} must be http(s)://host")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError("timeout_s must be positive, retries and backoff_s not negative")
        self.system = system
        self.base_url = base_url.rstrip("/")
        self.timeout_s = timeout_s
        self.retries = retries
        self.backoff_s = backoff_s
        self.breaker = breaker or CircuitBreaker()
        self._headers = {"Accept": "application/json", "User-Agent": "copilot-rest/1"}
        if token:
            self._headers["Authorization"] = f"Bearer {token}"
        self._transport = transport
        self._rng = rng or random.Random()
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._last_problem = "none seen by this client"

    def _http(self) -> httpx.AsyncClient:
        # Made on first use inside a loop, so a RestClient may be built outside any loop. Pooled
        # connections belong to the loop that opened them: a new loop (another asyncio.run) gets
        # a new pool; call aclose() before a loop ends or its sockets are left to the collector.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop or self._client.is_closed:
            self._client = httpx.AsyncClient(
                base_url=self.base_url,
                headers=self._headers,
                timeout=httpx.Timeout(self.timeout_s),
                limits=httpx.Limits(max_connections=100, max_keepalive_connections=100),
                transport=self._transport,
            )
            self._loop = loop
        return self._client

    async def aclose(self) -> None:
        """Close the pooled connections (only those of the running loop can be closed)."""
        client, loop = self._client, self._loop
        self._client = self._loop = None
        if client is not None and loop is asyncio.get_running_loop():
            await client.aclose()

    async def get(
        self, path: str, adapter: TypeAdapter[T], params: Mapping[str, str | int] | None = None
    ) -> T | None:
        """GET path and parse the JSON body; None when the service says the thing is not found."""
        return self._parsed("GET", path, adapter, await self._send("GET", path, params=params))

    async def post(self, path: str, json: object, adapter: TypeAdapter[T]) -> T | None:
        """POST a JSON body and parse the answer, mapped and retried exactly as GET is.

        Retries make this for idempotent routes only, such as actions that carry their own id.
        """
        return self._parsed("POST", path, adapter, await self._send("POST", path, json=json))

    def _parsed(
        self, method: str, path: str, adapter: TypeAdapter[T], response: httpx.Response
    ) -> T | None:
        if response.status_code == 404:
            return None
        try:
            return adapter.validate_json(response.content)
        except ValidationError:
            raise SystemUnavailable(
                self.system, f"{method} {path} answered a body of the wrong shape"
            ) from None

    async def _send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, str | int] | None = None,
        json: object = None,
    ) -> httpx.Response:
        attempts = self.retries + 1
        for attempt in range(attempts):
            if not self.breaker.allow():
                raise SystemUnavailable(
                    self.system,
                    f"circuit open after repeated failures (last: {self._last_problem}); "
                    f"next try in {self.breaker.retry_in():.1f}s",
                )
            trial = self.breaker.trial_in_flight
            try:
                async with asyncio.timeout(self.timeout_s):
                    response = await self._http().request(method, path, params=params, json=json)
            except (TimeoutError, httpx.TimeoutException):
                problem = f"no answer within {self.timeout_s:g}s"
            except httpx.HTTPError as exc:
                problem = f"cannot reach {self.base_url} ({type(exc).__name__})"
            except BaseException:
                if trial:
                    self.breaker.release()
                raise
            else:
                if response.status_code < 500 and response.status_code != 429:
                    self.breaker.record_success()
                    return self._checked(method, path, response)
                problem = f"HTTP {response.status_code}: {_error_of(response)[1]}"
            self.breaker.record_failure()
            self._last_problem = problem
            if attempt + 1 < attempts:
                delay = min(self.backoff_s * 2**attempt, MAX_BACKOFF_S)
                delay += self._rng.uniform(0, delay / 4)
                _log.debug(
                    "%s: %s %s failed (%s); retry in %.3fs",
                    self.system,
                    method,
                    path,
                    problem,
                    delay,
                )
                await asyncio.sleep(delay)
        raise SystemUnavailable(
            self.system, f"{method} {path} failed {attempts} time(s): {self._last_problem}"
        )

    def _checked(self, method: str, path: str, response: httpx.Response) -> httpx.Response:
        status = response.status_code
        if 200 <= status < 300:
            return response
        code, message, field = _error_of(response)
        if status == 404 and code == "not_found":
            return response
        if status in (400, 413, 414, 422, 431):
            name = field or "request"
            raise InvalidInput(name, message.removeprefix(f"{name}: "))
        if status in (401, 403):
            raise SystemUnavailable(
                self.system, f"authentication refused (HTTP {status}): check the service token"
            )
        if status == 404:
            raise SystemUnavailable(
                self.system,
                f"{method} {path} is not a route at {self.base_url}: is that the right URL?",
            )
        raise SystemUnavailable(self.system, f"unexpected HTTP {status} for {method} {path}")


def _error_of(response: httpx.Response) -> tuple[str, str, str | None]:
    """(code, message, field) from a service's {"error": {...}} body, tolerating any other body."""
    try:
        error = json.loads(response.content)["error"]
        code, message = str(error["code"]), str(error["message"])
        field = error.get("field")
    except (ValueError, KeyError, TypeError):
        return "", response.reason_phrase or f"HTTP {response.status_code}", None
    return code, message[:MAX_MESSAGE], None if field is None else str(field)
