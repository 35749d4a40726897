"""The REST backend: retries, timeouts, circuit breaker and auth over loopback HTTP, SQL parity."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi import FastAPI
from pydantic import TypeAdapter
from starlette.responses import JSONResponse

from tests.conftest import TODAY
from tools.base import Systems
from tools.demo.stories import ANNA, DANIEL, JACKET_TOTAL, MARGARET, PRIYA, TOM
from tools.errors import ConfigurationError, InvalidInput, SystemUnavailable
from tools.models import ContactKind
from tools.rest import CircuitBreaker, RestClient, rest_systems
from tools.rest.client import BreakerState
from tools.services import RunningServices, start_apps, start_services
from tools.sql import sql_systems

AS_OF = TODAY
TOKEN = "test-token"
COUNT = TypeAdapter(dict[str, int])


def state_of(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state, read through a call so mypy does not pin it after one assert."""
    return breaker.state


class Flaky:
    """A tiny service that fails its first `failures` requests with `status`, then answers."""

    def __init__(self) -> None:
        self.calls = 0
        self.failures = 0
        self.status = 503
        self.app = FastAPI()
        self.app.get("/v1/count")(self.count)
        self.app.get("/v1/slow")(self.slow)
        self.app.get("/v1/missing")(self.missing)
        self.app.get("/v1/bad")(self.bad)
        self.app.get("/healthz")(self.health)

    async def health(self) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    async def count(self) -> JSONResponse:
        self.calls += 1
        if self.calls <= self.failures:
            error = {"code": "system_unavailable", "message": "flaky on purpose"}
            return JSONResponse({"error": error}, status_code=self.status)
        return JSONResponse({"calls": self.calls})

    async def slow(self) -> JSONResponse:
        await asyncio.sleep(1.0)
        return JSONResponse({"calls": 0})

    async def missing(self) -> JSONResponse:
        error = {"code": "not_found", "message": "no such thing"}
        return JSONResponse({"error": error}, status_code=404)

    async def bad(self) -> JSONResponse:
        error = {"code": "invalid_input", "message": "phone: is not a phone number"}
        return JSONResponse({"error": {**error, "field": "phone"}}, status_code=400)


@pytest.fixture(scope="module")
def flaky_server() -> Iterator[tuple[Flaky, str]]:
    flaky = Flaky()
    with start_apps({"flaky": flaky.app}) as running:
        yield flaky, running.urls["flaky"]


@pytest.fixture
def flaky(flaky_server: tuple[Flaky, str]) -> Flaky:
    service, _ = flaky_server
    service.calls, service.failures, service.status = 0, 0, 503
    return service


@pytest.fixture
async def client(flaky_server: tuple[Flaky, str], flaky: Flaky) -> AsyncIterator[RestClient]:
    rest = RestClient("flaky", flaky_server[1], timeout_s=0.3, retries=2, backoff_s=0.05)
    yield rest
    await rest.aclose()


@pytest.mark.anyio
async def test_retries_with_backoff_until_the_service_answers(
    client: RestClient, flaky: Flaky
) -> None:
    flaky.failures = 2
    started = time.perf_counter()
    assert await client.get("/v1/count", COUNT) == {"calls": 3}
    assert flaky.calls == 3
    assert time.perf_counter() - started >= 0.05 + 0.10  # two backoffs, doubling


@pytest.mark.anyio
@pytest.mark.parametrize("status", [429, 500, 502, 503])
async def test_exhausted_retries_become_system_unavailable(
    client: RestClient, flaky: Flaky, status: int
) -> None:
    flaky.failures, flaky.status = 10, status
    with pytest.raises(SystemUnavailable, match=f"failed 3 time.*HTTP {status}") as caught:
        await client.get("/v1/count", COUNT)
    assert caught.value.system == "flaky" and flaky.calls == 3


@pytest.mark.anyio
async def test_not_found_is_none_and_bad_input_is_invalid_input(
    client: RestClient, flaky: Flaky
) -> None:
    assert await client.get("/v1/missing", COUNT) is None
    with pytest.raises(InvalidInput) as caught:
        await client.get("/v1/bad", COUNT)
    assert caught.value.field == "phone" and caught.value.message == "phone: is not a phone number"
    with pytest.raises(SystemUnavailable, match="not a route"):
        await client.get("/v1/elsewhere", COUNT)
    assert client.breaker.state == "closed"


@pytest.mark.anyio
async def test_a_slow_answer_times_out_as_system_unavailable(client: RestClient) -> None:
    started = time.perf_counter()
    with pytest.raises(SystemUnavailable, match=r"no answer within 0.3s"):
        await client.get("/v1/slow", COUNT)
    assert time.perf_counter() - started < 3 * 0.3 + 0.5


@pytest.mark.anyio
async def test_a_dead_port_is_retried_then_system_unavailable() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    rest = RestClient("crm", f"http://127.0.0.1:{port}", retries=1, backoff_s=0.05)
    started = time.perf_counter()
    with pytest.raises(SystemUnavailable, match=r"^crm: .*cannot reach http://127.0.0.1"):
        await rest.get("/v1/count", COUNT)
    assert time.perf_counter() - started >= 0.05
    await rest.aclose()


@pytest.mark.anyio
async def test_breaker_opens_rejects_fast_then_half_opens_and_closes(
    flaky_server: tuple[Flaky, str], flaky: Flaky
) -> None:
    breaker = CircuitBreaker(threshold=3, reset_s=0.3)
    rest = RestClient("flaky", flaky_server[1], retries=0, breaker=breaker)

    flaky.failures = 1_000
    for _ in range(3):
        with pytest.raises(SystemUnavailable, match="HTTP 503"):
            await rest.get("/v1/count", COUNT)
    assert state_of(breaker) == "open" and flaky.calls == 3

    started = time.perf_counter()
    with pytest.raises(SystemUnavailable, match="circuit open"):
        await rest.get("/v1/count", COUNT)
    assert time.perf_counter() - started < 0.05 and flaky.calls == 3  # never reached the service

    await asyncio.sleep(0.35)
    assert state_of(breaker) == "half_open"
    with pytest.raises(SystemUnavailable, match="HTTP 503"):
        await rest.get("/v1/count", COUNT)  # the trial fails: open again at once
    assert state_of(breaker) == "open" and flaky.calls == 4

    await asyncio.sleep(0.35)
    flaky.failures = 0
    assert await rest.get("/v1/count", COUNT) == {"calls": 5}
    assert state_of(breaker) == "closed"
    await rest.aclose()


def test_half_open_lets_exactly_one_trial_through() -> None:
    now = [0.0]
    breaker = CircuitBreaker(threshold=2, reset_s=10.0, clock=lambda: now[0])
    breaker.record_failure()
    assert state_of(breaker) == "closed" and breaker.allow()
    breaker.record_success()
    breaker.record_failure()
    breaker.record_failure()
    assert state_of(breaker) == "open" and not breaker.allow()
    assert breaker.retry_in() == 10.0
    now[0] = 10.0
    assert breaker.allow() and not breaker.allow()  # one trial at a time
    breaker.release()  # the trial was cancelled: the slot comes back
    assert breaker.allow()
    breaker.record_success()
    assert state_of(breaker) == "closed" and breaker.allow()


@pytest.mark.anyio
async def test_token_is_required_and_accepted(services: RunningServices) -> None:
    for token in (None, "wrong"):
        anonymous = rest_systems(services.urls, token=token, retries=0)
        with pytest.raises(SystemUnavailable, match=r"authentication refused.*401"):
            await anonymous.crm.get_profile(MARGARET)
        await anonymous.aclose()
    trusted = rest_systems(services.urls, token=TOKEN)
    profile = await trusted.crm.get_profile(MARGARET)
    assert profile is not None and profile.full_name == "Margaret Chen"
    await trusted.aclose()


@pytest.fixture
async def rest(services: RunningServices) -> AsyncIterator[Systems]:
    systems = rest_systems(services.urls, token=TOKEN, timeout_s=5.0)
    yield systems
    await systems.aclose()


@pytest.mark.anyio
async def test_rest_backend_answers_exactly_as_sql(data_dir: Path, rest: Systems) -> None:
    sql = sql_systems(data_dir)
    for cid in (MARGARET, DANIEL, PRIYA, TOM, "CUS-0000001", "CUS-0001500", "CUS-0999999"):
        assert await rest.crm.get_profile(cid) == await sql.crm.get_profile(cid)
        assert await rest.crm.get_history(cid, 7) == await sql.crm.get_history(cid, 7)
        got = await rest.billing.get_customer_billing(cid)
        assert got == await sql.billing.get_customer_billing(cid)
        assert await rest.orders.get_customer_orders(cid) == await sql.orders.get_customer_orders(
            cid
        )
    contacts: list[tuple[ContactKind, str]] = [
        ("phone", "+14255550104"),
        ("email", "nobody@example.com"),
    ]
    for kind, value in contacts:
        assert await rest.crm.find_by_contact(kind, value) == await sql.crm.find_by_contact(
            kind, value
        )
    assert [r.customer_id for r in await rest.crm.find_by_contact("phone", "+14255550104")] == [
        TOM,
        ANNA,
    ]
    name = await rest.crm.find_by_name_postal("margaret chen", "94110")
    assert name == await sql.crm.find_by_name_postal("margaret chen", "94110") != []
    many = [f"CUS-{n:07d}" for n in range(1, 260)] + [MARGARET, DANIEL, MARGARET]
    assert await rest.crm.get_refs(many) == await sql.crm.get_refs(many)  # spans three requests
    assert await rest.crm.get_refs([]) == []
    for number in ("BA90000001", "BA00000000"):
        assert await rest.billing.find_account(number) == await sql.billing.find_account(number)
    for order in ("S900000201", "W000000000"):
        assert await rest.orders.find_order(order) == await sql.orders.find_order(order)
    day = AS_OF - timedelta(days=14)
    for offset, total in ((-1, JACKET_TOTAL), (0, JACKET_TOTAL), (2, JACKET_TOTAL), (0, 1.5)):
        on = day + timedelta(days=offset)
        want = await sql.orders.find_card_purchases("7319", on, total)
        assert await rest.orders.find_card_purchases("7319", on, total) == want
    wide = await rest.orders.find_card_purchases("7319", day + timedelta(days=3), JACKET_TOTAL, 3)
    assert [ref.order_number for ref in wide] == ["S900000201"]


@pytest.mark.anyio
async def test_malformed_input_is_invalid_input_not_a_lookup(rest: Systems) -> None:
    for call in (
        rest.crm.get_profile("CUS-1/../../orders/S900000201"),
        rest.crm.get_profile(".."),
        rest.crm.find_by_contact("phone", "1' OR '1'='1"),
        rest.crm.get_refs([MARGARET, "CUS-0000001' OR '1'='1"]),
        rest.billing.find_account("BA1234/5678"),
        rest.orders.find_card_purchases("12345", AS_OF, 10.0),
        rest.orders.get_customer_orders(DANIEL, limit=10_000),
    ):
        with pytest.raises(InvalidInput):
            await call


def test_a_client_built_outside_a_loop_works_in_each_new_loop(services: RunningServices) -> None:
    systems = rest_systems(services.urls, token=TOKEN)

    async def lookup() -> str | None:
        try:
            profile = await systems.crm.get_profile(DANIEL)
            return None if profile is None else profile.full_name
        finally:
            await systems.aclose()

    assert asyncio.run(lookup()) == "Daniel Okafor"
    assert asyncio.run(lookup()) == "Daniel Okafor"


@pytest.mark.anyio
async def test_retries_ride_out_a_flaky_service(data_dir: Path) -> None:
    with start_services(data_dir, error_rate=0.3) as flaky_services:
        systems = rest_systems(flaky_services.urls, retries=6, backoff_s=0.001)
        for cid in (MARGARET, DANIEL, PRIYA, TOM, ANNA) * 4:
            assert await systems.crm.get_profile(cid) is not None
        await systems.aclose()
        once = rest_systems(flaky_services.urls, retries=0, breaker_threshold=100)
        outcomes = []
        for cid in (MARGARET, DANIEL, PRIYA, TOM, ANNA) * 4:
            try:
                outcomes.append(await once.crm.get_profile(cid) is not None)
            except SystemUnavailable:
                outcomes.append(False)
        assert 0 < outcomes.count(False) < len(outcomes)  # without retries, some calls fail
        await once.aclose()


def test_configuration_mistakes_are_named() -> None:
    with pytest.raises(ConfigurationError, match="billing, orders"):
        rest_systems({"crm": "http://127.0.0.1:1"})
    with pytest.raises(ConfigurationError, match="must be http"):
        RestClient("crm", "ftp://example.com")
