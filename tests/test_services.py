"""The demo systems as HTTP services: same data as SQL, hostile input refused, faults injected."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel

from tests.conftest import TODAY
from tools.demo.stories import ANNA, DANIEL, JACKET_TOTAL, MARGARET, TOM
from tools.services import (
    DEFAULT_PORTS,
    RunningServices,
    create_system_app,
    start_apps,
    start_services,
)
from tools.sql import SqlCrm, sql_systems
from tools.sql.engine import make_engine, sqlite_url

AS_OF = TODAY
TOKEN = "test-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
JACKET_DAY = AS_OF - timedelta(days=14)


@pytest.fixture(scope="module")
def running(services: RunningServices) -> RunningServices:
    return services


@pytest.fixture(scope="module")
def http(running: RunningServices) -> Iterator[dict[str, httpx.Client]]:
    clients = {name: httpx.Client(base_url=url, headers=AUTH) for name, url in running.urls.items()}
    yield clients
    for client in clients.values():
        client.close()


def as_json(value: BaseModel | list[Any] | None) -> Any:
    """A record or list of records as the JSON a service should answer with."""
    if isinstance(value, list):
        return [item.model_dump(mode="json") for item in value]
    return None if value is None else value.model_dump(mode="json")


def get_ok(client: httpx.Client, path: str, **params: str | int) -> Any:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    return response.json()


def test_health_is_open_and_everything_else_needs_the_token(running: RunningServices) -> None:
    for name, url in running.urls.items():
        health = httpx.get(f"{url}/healthz")
        assert health.status_code == 200 and health.json() == {"status": "ok", "system": name}
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN}):
        refused = httpx.get(f"{running.urls['crm']}/v1/customers/{MARGARET}", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["www-authenticate"] == "Bearer"
        assert refused.json()["error"]["code"] == "unauthorized"


@pytest.mark.anyio
async def test_story_customers_match_the_sql_backend(
    data_dir: Path, http: dict[str, httpx.Client]
) -> None:
    sql = sql_systems(data_dir)
    crm, billing, orders = http["crm"], http["billing"], http["orders"]
    for cid in (MARGARET, DANIEL, TOM, ANNA, "CUS-0000001", "CUS-0001999"):
        profile = await sql.crm.get_profile(cid)
        assert get_ok(crm, f"/v1/customers/{cid}") == as_json(profile)
        history = await sql.crm.get_history(cid, 5)
        assert get_ok(crm, f"/v1/customers/{cid}/history", limit=5) == as_json(history)
        accounts = await sql.billing.get_customer_billing(cid)
        assert get_ok(billing, f"/v1/customers/{cid}/accounts") == as_json(accounts)
        bought = await sql.orders.get_customer_orders(cid)
        assert get_ok(orders, f"/v1/customers/{cid}/orders") == as_json(bought)

    family = get_ok(crm, "/v1/customers", phone="(425) 555-0104")
    assert [ref["customer_id"] for ref in family] == [TOM, ANNA]
    assert family == as_json(await sql.crm.find_by_contact("phone", "+14255550104"))
    assert get_ok(crm, "/v1/customers", email="Nobody@Example.com") == []
    by_name = get_ok(crm, "/v1/customers:by-name", name="Margaret  Chen", postal_code="94110")
    assert by_name == as_json(await sql.crm.find_by_name_postal("margaret chen", "94110"))
    refs = get_ok(crm, "/v1/customers:refs", ids=f"{DANIEL},{MARGARET}")
    assert refs == as_json(await sql.crm.get_refs([MARGARET, DANIEL]))
    assert get_ok(crm, "/v1/customers:refs", ids="") == []

    assert get_ok(billing, "/v1/accounts/BA90000001") == as_json(
        await sql.billing.find_account("BA90000001")
    )
    assert get_ok(orders, "/v1/orders/S900000201")["customer_id"] == DANIEL
    match = get_ok(
        orders,
        "/v1/purchases",
        card_last4="7319",
        date=(JACKET_DAY + timedelta(days=1)).isoformat(),
        amount=str(JACKET_TOTAL),
    )
    found = await sql.orders.find_card_purchases("7319", JACKET_DAY, JACKET_TOTAL)
    assert [m["order_number"] for m in match] == ["S900000201"] and match == as_json(found)


def test_missing_records_are_404_not_found(http: dict[str, httpx.Client]) -> None:
    for system, path in (
        ("crm", "/v1/customers/CUS-0999999"),
        ("billing", "/v1/accounts/BA00000000"),
        ("orders", "/v1/orders/W000000000"),
    ):
        response = http[system].get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    unknown = http["crm"].get("/v1/no-such-thing")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "unknown_route"


HOSTILE = "CUS-0000001' OR '1'='1"
HUGE = "9" * 10_000


@pytest.mark.parametrize(
    ("system", "path", "params"),
    [
        ("crm", f"/v1/customers/{HOSTILE}", {}),
        ("crm", "/v1/customers/CUS-00000011", {}),
        ("crm", f"/v1/customers/{HUGE}", {}),
        ("crm", "/v1/customers", {"phone": HUGE}),
        ("crm", "/v1/customers", {"email": "x" * 1500 + "@example.com"}),
        ("crm", "/v1/customers", {"phone": "1' OR '1'='1"}),
        ("crm", "/v1/customers", {"email": "a@b.co", "phone": "4155550101"}),
        ("crm", "/v1/customers", {}),
        ("crm", "/v1/customers", {"social": "@bad handle; DROP TABLE customers"}),
        ("crm", "/v1/customers:by-name", {"name": "Robert'); DROP TABLE--", "postal_code": "1"}),
        ("crm", "/v1/customers:refs", {"ids": f"{MARGARET},{HOSTILE}"}),
        ("crm", "/v1/customers:refs", {"ids": ",".join([MARGARET] * 101)}),
        ("crm", f"/v1/customers/{MARGARET}/history", {"limit": "-1"}),
        ("crm", f"/v1/customers/{MARGARET}/history", {"limit": "ten"}),
        ("crm", f"/v1/customers/{MARGARET}/history", {"limit": 1_000_000}),
        ("crm", "/v1/customers/CUS-9000001%00", {}),
        ("billing", "/v1/accounts/BA1234' OR 1=1--", {}),
        ("billing", f"/v1/customers/{HOSTILE}/accounts", {}),
        ("orders", "/v1/orders/W12345678901234567890", {}),
        ("orders", "/v1/purchases", {"card_last4": "73190", "date": "2026-11-10", "amount": "9"}),
        ("orders", "/v1/purchases", {"card_last4": "7319", "date": "10/11/2026", "amount": "9"}),
        ("orders", "/v1/purchases", {"card_last4": "7319", "date": "2026-11-10", "amount": "-5"}),
        ("orders", "/v1/purchases", {"card_last4": "7319", "date": "2026-11-10", "amount": HUGE}),
        ("orders", "/v1/purchases", {"card_last4": "7319", "date": "2026-11-10"}),
        (
            "orders",
            "/v1/purchases",
            {"card_last4": "7319", "date": "2026-11-10", "amount": "9", "tolerance_days": 400},
        ),
    ],
)
def test_bad_input_is_a_json_4xx_without_a_traceback(
    http: dict[str, httpx.Client], system: str, path: str, params: dict[str, str | int]
) -> None:
    response = http[system].get(path, params=params)
    assert 400 <= response.status_code < 500, response.text
    error = response.json()["error"]
    assert error["code"] in ("invalid_input", "request_too_long") and error["message"]
    assert "Traceback" not in response.text and "File " not in response.text
    assert len(response.text) < 400  # the hostile value is never echoed back


def test_an_unexpected_failure_is_a_generic_500(tmp_path: Path) -> None:
    broken = SqlCrm(make_engine(sqlite_url(tmp_path, "crm"), must_exist=False))
    with start_apps({"crm": create_system_app("crm", broken)}) as services:
        response = httpx.get(f"{services.urls['crm']}/v1/customers/{MARGARET}")
    assert response.status_code == 500
    assert response.json() == {
        "error": {"code": "internal_error", "message": "crm: internal error; see the service log"}
    }


def test_injected_latency_delays_every_request(data_dir: Path) -> None:
    with start_services(data_dir, latency_ms=150) as slow:
        for name, path in (
            ("crm", f"/v1/customers/{MARGARET}"),
            ("billing", "/v1/accounts/BA90000001"),
            ("orders", "/v1/orders/S900000201"),
        ):
            started = time.perf_counter()
            response = httpx.get(f"{slow.urls[name]}{path}")
            assert response.status_code == 200
            assert time.perf_counter() - started >= 0.15


def test_error_rate_one_answers_503_and_health_stays_up(data_dir: Path) -> None:
    with start_services(data_dir, error_rate=1.0) as failing:
        for url in failing.urls.values():
            response = httpx.get(f"{url}/v1/customers/{MARGARET}/orders")
            assert response.status_code == 503
            assert response.json()["error"]["code"] == "system_unavailable"
            assert httpx.get(f"{url}/healthz").status_code == 200


def test_injected_errors_are_reproducible_from_the_seed(data_dir: Path) -> None:
    crm = sql_systems(data_dir).crm

    def statuses(seed: int) -> list[int]:
        app = create_system_app("crm", crm, error_rate=0.5, seed=seed)
        with start_apps({"crm": app}) as one, httpx.Client(base_url=one.urls["crm"]) as client:
            return [client.get(f"/v1/customers/{MARGARET}").status_code for _ in range(24)]

    first = statuses(7)
    assert first == statuses(7)
    assert set(first) == {200, 503}


def test_settings_out_of_range_are_refused(data_dir: Path) -> None:
    crm = sql_systems(data_dir).crm
    with pytest.raises(ValueError, match="error_rate"):
        create_system_app("crm", crm, error_rate=1.5)
    with pytest.raises(ValueError, match="latency_ms"):
        create_system_app("crm", crm, latency_ms=-1)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def test_run_services_serves_all_three_until_interrupted(data_dir: Path) -> None:
    assert dict(DEFAULT_PORTS) == {"crm": 8101, "billing": 8102, "orders": 8103}
    ports = {name: _free_port() for name in ("crm", "billing", "orders")}
    code = (
        "import sys; from pathlib import Path; from tools.services import run_services; "
        f"run_services(Path(sys.argv[1]), ports={ports!r})"
    )
    proc = subprocess.Popen([sys.executable, "-c", code, str(data_dir)])
    try:
        deadline = time.monotonic() + 20
        for name, port in ports.items():
            while True:
                try:
                    health = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                    assert health.json()["system"] == name
                    break
                except httpx.TransportError:
                    assert time.monotonic() < deadline and proc.poll() is None
                    time.sleep(0.05)
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
