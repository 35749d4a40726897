"""The API docs work offline, and the OpenAPI spec tells the truth about keys and errors.

Over real HTTP on loopback, and in Debian's chromium with every request off the app refused.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from playwright.sync_api import Route, sync_playwright

from server.app import create_app
from server.errors import MEANING
from server.limits import MAX_BODY
from tests.conftest import api_keys, bearer
from tests.server.conftest import copied_settings, serving
from tests.server.test_browser import ARTIFACTS, CHROMIUM, FLAGS
from tools.services import start_apps

ASSETS = {
    "/docs/static/swagger-ui-bundle.js": "javascript",
    "/docs/static/swagger-ui.css": "text/css",
    "/docs/static/redoc.standalone.js": "javascript",
    "/docs/static/favicon.png": "image/png",
}
STREAM = "/v1/sessions/{session_id}/stream"
OPEN_ROUTES = {"/healthz", "/readyz", "/metrics", "/schemas", "/schemas/{name}"}
LOGO = "cdn.redoc.ly/redoc/logo-mini.svg"
GONE_REDIS = "redis://127.0.0.1:9/0"  # nothing listens on the discard port


def key(role: str) -> str:
    return bearer(role)["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def api_url(
    data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serving(copied_settings(data_dir, demo_kb, tmp_path_factory.mktemp("docs"))) as url:
        yield url


@pytest.fixture(scope="module")
def spec(api_url: str) -> dict[str, Any]:
    got = httpx.get(f"{api_url}/openapi.json")
    assert got.status_code == 200
    body: dict[str, Any] = got.json()
    return body


def operations(spec: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            yield f"{method.upper()} {path}", operation


def test_the_docs_pages_load_every_asset_from_the_app_itself(api_url: str) -> None:
    served: set[str] = set()
    for page in ("/docs", "/redoc"):
        got = httpx.get(f"{api_url}{page}")
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/html")
        assert re.findall(r"(?:https?:)?//[\w.-]+", got.text) == [], page  # no other origin
        links = re.findall(r'(?:src|href)="([^"]+)"', got.text)
        assert links and all(link.startswith("/docs/static/") for link in links), links
        served |= set(links)
    assert served == set(ASSETS)
    for path, kind in ASSETS.items():
        got = httpx.get(f"{api_url}{path}")
        assert got.status_code == 200 and kind in got.headers["content-type"], path
        assert len(got.content) > 4000, path
    redirect = httpx.get(f"{api_url}/docs/oauth2-redirect")
    assert redirect.status_code == 200 and "oauth2" in redirect.text
    assert httpx.get(f"{api_url}/docs/static/nothing.js").status_code == 404


def test_swagger_ui_and_redoc_render_with_the_network_closed_and_authorize_works(
    api_url: str,
) -> None:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    outside: list[str] = []
    problems: list[str] = []

    def gate(route: Route) -> None:
        if route.request.url.startswith(f"{api_url}/"):
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.route("**/*", gate)
        tab = context.new_page()
        tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        tab.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        tab.goto(f"{api_url}/docs")
        tab.locator(".swagger-ui .info .title").get_by_text("Agent-assist copilot").wait_for(
            timeout=30_000
        )
        # Authorize with the bearer key, then call a protected route from the page.
        tab.locator(".swagger-ui .auth-wrapper button.authorize").click()
        dialog = tab.locator(".swagger-ui .modal-ux")
        dialog.locator("#api_key_value").wait_for(timeout=10_000)  # access_token, for streams
        bearer_form = dialog.locator(".auth-container").filter(has_text="(http, Bearer)")
        bearer_form.locator("#auth-bearer-value").fill(key("agent"))
        bearer_form.locator("button.authorize").click()
        bearer_form.locator("button", has_text="Logout").wait_for(timeout=10_000)
        dialog.locator("button.close-modal").click()
        listing = tab.locator("#operations-sessions-list_sessions_v1_sessions_get")
        listing.locator(".opblock-summary").first.click()
        listing.get_by_role("button", name="Try it out").click()
        listing.get_by_role("button", name="Execute").click()
        status = listing.locator(".live-responses-table tr.response .response-col_status").first
        status.wait_for(timeout=15_000)
        assert status.inner_text().strip() == "200"
        tab.screenshot(path=ARTIFACTS / "api-docs-swagger.png")
        tab.goto(f"{api_url}/redoc")
        tab.get_by_role("heading", name=re.compile("Agent-assist copilot")).first.wait_for(
            timeout=30_000
        )
        tab.screenshot(path=ARTIFACTS / "api-docs-redoc.png")
        tab.get_by_text(MEANING[401]).first.wait_for(timeout=10_000)
        browser.close()
    assert outside == []
    # The page's policy refuses ReDoc's logo from its CDN; ReDoc then leaves it out.
    refused = [p for p in problems if "Content Security Policy" in p and LOGO in p]
    assert len(refused) <= 1 and [p for p in problems if p not in refused] == []


def test_the_spec_declares_the_keys_and_asks_for_them_on_protected_routes_only(
    spec: dict[str, Any],
) -> None:
    schemes = spec["components"]["securitySchemes"]
    assert schemes["bearer"]["type"] == "http" and schemes["bearer"]["scheme"] == "bearer"
    assert schemes["access_token"] == {
        "type": "apiKey",
        "in": "query",
        "name": "access_token",
        "description": schemes["access_token"]["description"],
    }
    for name, operation in operations(spec):
        path = name.split(" ", 1)[1]
        if path in OPEN_ROUTES:
            assert "security" not in operation, name
            continue
        expected: list[dict[str, list[str]]] = [{"bearer": []}]
        if path == STREAM:  # EventSource cannot send headers: the key may come in the URL
            expected.append({"access_token": []})
        assert operation.get("security") == expected, name


def test_every_error_the_spec_declares_is_the_apps_envelope(spec: dict[str, Any]) -> None:
    assert "HTTPValidationError" not in json.dumps(spec)
    envelope = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    assert spec["components"]["schemas"]["ErrorDetail"]["required"] == ["code", "message"]
    for name, operation in operations(spec):
        responses = operation["responses"]
        assert "default" in responses, name
        for status, response in responses.items():
            if name == "GET /readyz" and status == "503":
                continue  # readiness answers with its own body
            if status == "default" or int(status) >= 400:
                assert response.get("content") == envelope, (name, status)
                assert response["description"], (name, status)


@dataclass(frozen=True)
class Provoke:
    """One request that must answer `status` with the error `code` for `operation`."""

    operation: str
    status: int
    code: str
    path: str  # {open} and {closed}: sessions of the caller's tenant
    role: str | None = "agent"  # None: no key at all
    json: Any = None
    params: dict[str, str] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    redis_gone: bool = False


SESSION = "GET /v1/sessions/{session_id}"
EVENTS = "POST /v1/sessions/{session_id}/events"
HANDOFF = "POST /v1/handoffs"
STREAMING = f"GET {STREAM}"
VIEW = "GET /v1/customers/{customer_id}/360"
SCHEMA = "GET /schemas/{name}"
SCENARIOS = "GET /v1/scenarios"
KB = "POST /v1/kb/query"
EVENT = {"event_id": "d1", "type": "utterance", "text": "hello"}
HUGE = {**EVENT, "text": "x" * (MAX_BODY + 1)}
CASES = [
    Provoke(SESSION, 400, "invalid_input", "/v1/sessions/-bad"),
    Provoke(SESSION, 401, "unauthorized", "/v1/sessions/{open}", role=None),
    Provoke(SESSION, 403, "forbidden", "/v1/sessions/{open}", role="bot"),
    Provoke(SESSION, 404, "not_found", "/v1/sessions/nobody-here"),
    Provoke(EVENTS, 400, "invalid_input", "/v1/sessions/{open}/events", json={"type": "utterance"}),
    Provoke(
        EVENTS,
        401,
        "unauthorized",
        "/v1/sessions/{open}/events",
        role=None,
        json=EVENT,
        params={"access_token": key("agent")},
    ),
    Provoke(EVENTS, 403, "forbidden", "/v1/sessions/{open}/events", role="qa", json=EVENT),
    Provoke(EVENTS, 404, "not_found", "/v1/sessions/nobody-here/events", json=EVENT),
    Provoke(EVENTS, 409, "session_closed", "/v1/sessions/{closed}/events", json=EVENT),
    Provoke(EVENTS, 413, "too_large", "/v1/sessions/{open}/events", json=HUGE),
    Provoke(
        EVENTS, 503, "system_unavailable", "/v1/sessions/{open}/events", json=EVENT, redis_gone=True
    ),
    Provoke(HANDOFF, 422, "invalid_packet", "/v1/handoffs", json={"handoff_id": 5}),
    Provoke(HANDOFF, 401, "unauthorized", "/v1/handoffs", role=None, json={"handoff_id": "h1"}),
    Provoke(HANDOFF, 403, "forbidden", "/v1/handoffs", role="qa", json={"handoff_id": "h1"}),
    Provoke(HANDOFF, 413, "too_large", "/v1/handoffs", json={"handoff_id": "h1", "x": HUGE}),
    Provoke(
        HANDOFF,
        503,
        "system_unavailable",
        "/v1/handoffs",
        json={"handoff_id": "h1"},
        redis_gone=True,
    ),
    Provoke(
        STREAMING,
        400,
        "invalid_input",
        "/v1/sessions/{open}/stream",
        headers={"Last-Event-ID": "abc"},
    ),
    Provoke(STREAMING, 401, "unauthorized", "/v1/sessions/{open}/stream", role=None),
    Provoke(
        STREAMING,
        403,
        "forbidden",
        "/v1/sessions/{open}/stream",
        role=None,
        params={"access_token": key("bot")},
    ),
    Provoke(STREAMING, 404, "not_found", "/v1/sessions/nobody-here/stream"),
    Provoke(VIEW, 400, "invalid_input", "/v1/customers/xyz/360"),
    Provoke(VIEW, 401, "unauthorized", "/v1/customers/CUS-9999999/360", role=None),
    Provoke(VIEW, 403, "forbidden", "/v1/customers/CUS-9999999/360", role="qa"),
    Provoke(VIEW, 404, "not_found", "/v1/customers/CUS-9999999/360"),
    Provoke(SCHEMA, 400, "invalid_input", "/schemas/" + "x" * 65, role=None),
    Provoke(SCHEMA, 404, "not_found", "/schemas/nothing", role=None),
    Provoke(SCENARIOS, 401, "unauthorized", "/v1/scenarios", role=None),
    Provoke(SCENARIOS, 403, "forbidden", "/v1/scenarios", role="bot"),
    Provoke(KB, 400, "invalid_input", "/v1/kb/query", json={"turns": []}, params={"k": "0"}),
    Provoke(KB, 401, "unauthorized", "/v1/kb/query", role=None, json={"turns": []}),
    Provoke(KB, 403, "forbidden", "/v1/kb/query", role="bot", json={"turns": []}),
    Provoke(KB, 413, "too_large", "/v1/kb/query", json={"turns": [], "x": HUGE}),
]


def _sessions(url: str, close_one: bool) -> dict[str, str]:
    made = {}
    for name in ("open", "closed") if close_one else ("open",):
        got = httpx.post(f"{url}/v1/sessions", json={}, headers=bearer("agent"), timeout=120)
        assert got.status_code == 201, got.text
        made[name] = got.json()["session_id"]
    if close_one:
        closed = httpx.post(
            f"{url}/v1/sessions/{made['closed']}/close", headers=bearer("agent"), timeout=60
        )
        assert closed.status_code == 200, closed.text
    return made


@pytest.fixture(scope="module")
def targets(
    api_url: str, data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[bool, tuple[str, dict[str, str]]]]:
    """Per redis_gone: the app's URL and its sessions; the second app's Redis never answers."""
    root = tmp_path_factory.mktemp("docs-redis-gone")
    gone = copied_settings(data_dir, demo_kb, root).model_copy(update={"redis_url": GONE_REDIS})
    with start_apps({"copilot": create_app(gone, keys=api_keys())}) as running:
        down = running.urls["copilot"]
        yield {
            False: (api_url, _sessions(api_url, close_one=True)),
            True: (down, _sessions(down, close_one=False)),
        }


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.operation} {c.status}")
def test_each_declared_error_status_is_what_the_app_answers(
    case: Provoke, spec: dict[str, Any], targets: dict[bool, tuple[str, dict[str, str]]]
) -> None:
    url, sessions = targets[case.redis_gone]
    method, template = case.operation.split(" ", 1)
    assert str(case.status) in spec["paths"][template][method.lower()]["responses"]
    headers = {**(bearer(case.role) if case.role else {}), **case.headers}
    got = httpx.request(
        method,
        url + case.path.format(**sessions),
        json=case.json,
        params=case.params,
        headers=headers,
        timeout=120,
    )
    assert got.status_code == case.status, (got.status_code, got.text[:300])
    body = got.json()
    root = {"$ref": "#/components/schemas/ErrorBody", "components": spec["components"]}
    Draft202012Validator(root).validate(body)
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == case.code and body["error"]["message"]


def test_the_sample_provokes_every_error_its_operations_declare(spec: dict[str, Any]) -> None:
    provoked: dict[str, set[str]] = {}
    for case in CASES:
        provoked.setdefault(case.operation, set()).add(str(case.status))
    for name, statuses in provoked.items():
        method, template = name.split(" ", 1)
        declared = spec["paths"][template][method.lower()]["responses"]
        errors = {s for s in declared if s != "default" and int(s) >= 400}
        assert errors == statuses, name
