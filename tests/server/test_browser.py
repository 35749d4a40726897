"""The agent console and the widget in a real browser: Playwright driving Debian's chromium.

Screenshots land in var/test-artifacts/browser/ for a person to look at.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from copilot.settings import Settings
from server.app import create_app
from tests.conftest import bearer
from tests.server.conftest import copied_settings, serving
from tools.demo.reset import reset_stories
from tools.sql.engine import SYSTEM_NAMES, make_engine, sqlite_url

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "var" / "test-artifacts" / "browser"
AGENT_KEY = bearer("agent")["Authorization"].removeprefix("Bearer ")


@pytest.fixture(scope="module")
def console_settings(
    data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Settings:
    """The module's own copy of the systems: approving an action in one test writes to it."""
    return copied_settings(data_dir, demo_kb, tmp_path_factory.mktemp("browser"))


@pytest.fixture(scope="module")
def console_url(console_settings: Settings) -> Iterator[str]:
    with serving(console_settings) as url:
        yield url


@pytest.fixture
def stories_as_told(console_settings: Settings) -> None:
    """The story customers as their stories tell them, whatever earlier tests approved."""
    folder = Path(console_settings.data_dir)
    engines = {s: make_engine(sqlite_url(folder, s)) for s in SYSTEM_NAMES}
    try:
        reset_stories(engines)
    finally:
        for engine in engines.values():
            engine.dispose()


@pytest.fixture
def page() -> Iterator[tuple[Page, list[str]]]:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: `make browser` installs Debian's chromium")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    problems: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, headless=True, args=FLAGS)
        tab = browser.new_page(viewport={"width": 1280, "height": 900})

        def noted(message: ConsoleMessage) -> None:
            if message.type in ("error", "warning"):
                problems.append(f"{message.type}: {message.text}")

        tab.on("console", noted)
        tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
        yield tab, problems
        browser.close()


def card(tab: Page, card_id: str) -> Any:
    return tab.locator(f'copilot-panel section[data-card="{card_id}"]')


def test_the_past_due_scenario_fills_every_card_and_an_action_is_approved(
    console_url: str, page: tuple[Page, list[str]]
) -> None:
    tab, problems = page
    tab.goto(f"{console_url}/?token={AGENT_KEY}")
    tab.locator("#scenario").select_option("past-due-autopay")
    tab.locator("#fast").check()
    tab.locator("#play").click()
    for card_id in ("customer", "next_best_action", "mood", "summary", "knowledge", "intent"):
        card(tab, card_id).wait_for(timeout=30_000)
    tab.wait_for_function(
        "() => (document.querySelector('#transcript')?.children.length ?? 0) >= 3",
        timeout=30_000,
    )
    customer = card(tab, "customer")
    customer.get_by_text("Margaret", exact=False).first.wait_for(timeout=15_000)
    tab.screenshot(path=ARTIFACTS / "past-due-scenario.png", full_page=True)
    # The panel's updates follow the transcript's lines as the engine gets through them.
    tab.wait_for_function(
        "() => Number(document.querySelector('copilot-panel').dataset.version) >= 3",
        timeout=30_000,
    )
    first_version = int(tab.locator("copilot-panel").get_attribute("data-version") or 0)
    # Her number identified her; until a check verifies her, verifying is the next step.
    card(tab, "next_best_action").get_by_text("Verify the customer").first.wait_for(timeout=15_000)
    sid = tab.evaluate("() => document.querySelector('copilot-panel').getAttribute('session')")
    check = {"event_id": "otp-ok", "type": "metadata", "speaker": "system"}
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=30) as api:
        passed = {**check, "data": {"verified_by": "otp_sms"}}
        assert api.post(f"/v1/sessions/{sid}/events", json=passed).status_code == 202
    # The agent explains; the playbook's next step is the autopay card, proposed as an action.
    tab.locator("#speaker").select_option("agent")
    tab.locator("#text").fill("Your autopay card expired in September, so the payment failed.")
    tab.locator("#send").click()
    # The update waits for a new card from the secure payment form, then shows its preview.
    card(tab, "next_best_action").get_by_text("secure payment form", exact=False).first.wait_for(
        timeout=30_000
    )
    form = {"form_id": "f1", "brand": "Visa", "last4": "4242", "exp_month": 4, "exp_year": 2031}
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=30) as api:
        added = api.post(f"/v1/sessions/{sid}/payment-methods", json=form)
        assert added.status_code == 201, added.text
    card(tab, "next_best_action").get_by_text("If approved", exact=False).first.wait_for(
        timeout=30_000
    )
    approve = tab.locator("copilot-panel").get_by_role("button", name="Approve").first
    approve.wait_for(timeout=30_000)
    tab.screenshot(path=ARTIFACTS / "action-proposed.png", full_page=True)
    approve.click()
    tab.locator("copilot-panel").get_by_text("agent one", exact=False).first.wait_for(
        timeout=30_000
    )
    tab.screenshot(path=ARTIFACTS / "action-approved.png", full_page=True)
    later = int(tab.locator("copilot-panel").get_attribute("data-version") or 0)
    assert later > first_version
    assert problems == []


def test_the_panel_fits_a_360_pixel_sidebar_and_works_from_the_keyboard(
    console_url: str, page: tuple[Page, list[str]]
) -> None:
    tab, problems = page
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=30) as api:
        sid = api.post("/v1/sessions", json={"channel": "chat"}).json()["session_id"]
        phone = "Hi, my bill is past due and my number is (415) 555-0101."
        body = {"event_id": "e1", "type": "utterance", "text": phone}
        assert api.post(f"/v1/sessions/{sid}/events", json=body).status_code == 202
    tab.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"{console_url}/panel?session={sid}&token={AGENT_KEY}")
    card(tab, "customer").wait_for(timeout=30_000)
    card(tab, "next_best_action").wait_for(timeout=30_000)
    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"the panel scrolls sideways: {width} px"
    regions = tab.locator("copilot-panel [role=region]")
    assert regions.count() >= 6
    assert all(regions.nth(i).get_attribute("aria-label") for i in range(regions.count()))
    tab.keyboard.press("Tab")
    focused = tab.evaluate(
        "() => { const p = document.querySelector('copilot-panel');"
        " const a = (p.shadowRoot && p.shadowRoot.activeElement) || document.activeElement;"
        " return a ? a.tagName : null; }"
    )
    assert focused in ("BUTTON", "A", "SUMMARY", "SECTION", "TEXTAREA")
    tab.screenshot(path=ARTIFACTS / "panel-360.png", full_page=True)
    assert problems == []


# --- issue 8: verification, what was already provided, the bot's handoff, sessions ----------------

STATIC = Path(__file__).resolve().parents[2] / "server" / "static"
FAKE = "http://copilot.test"


def _fixture_cards(now: str, *, verification: dict[str, Any] | None) -> list[dict[str, Any]]:
    """Cards as the engine sends them after a handoff (issue 8's fields), newest shapes."""
    customer: dict[str, Any] = {
        "customer_id": "CUS-9000001",
        "name": "Margaret Chen",
        "tier": "gold",
        "matched_by": ["customer_id"],
    }
    if verification is not None:
        customer["verification"] = verification
    return [
        {
            "type": "customer",
            "id": "customer",
            "version": 3,
            "status": "ok",
            "data": customer,
            "provenance": {"events": ["h-1"], "tool_calls": ["crm.get_customer#1"]},
        },
        {
            "type": "summary",
            "id": "summary",
            "version": 2,
            "status": "ok",
            "data": {
                "prose": "Customer was handed over by the chatbot about a past-due bill.",
                "prose_source": "extractive",
                "provided": [
                    {
                        "field": "identity",
                        "value": "verified by OTP SMS in chat, 2 minutes ago",
                        "source": "handoff from chatbot",
                        "channel": "chat",
                        "event_id": None,
                    },
                    {
                        "field": "phone",
                        "value": "•••-•••-0101",
                        "source": "chatbot",
                        "channel": "chat",
                        "event_id": "h-1",
                    },
                    {"field": "card_last4", "value": "••••4242", "source": "customer"},
                    {"field": "preferred_contact_time", "value": "evenings", "source": "chatbot"},
                ],
                "handoff": {
                    "bot": "chatbot",
                    "from_channel": "chat",
                    "tried": [
                        {
                            "kind": "action",
                            "name": "retry_payment",
                            "outcome": "declined: card on file expired",
                        },
                        {"kind": "article", "name": "KB-BILL-7", "outcome": None},
                    ],
                    "open_questions": ["update the autopay card"],
                    "origin": {
                        "channel": "email",
                        "kind": "email_link",
                        "reference": "INT-9000001-2",
                        "at": now,
                    },
                },
            },
        },
        {
            "type": "journey",
            "id": "journey",
            "version": 2,
            "status": "ok",
            "data": {
                "origin": {
                    "channel": "email",
                    "kind": "email_link",
                    "summary": "the chat link in the billing email: Notice sent: your bill is "
                    "past due and a late fee may apply to your account soon",
                    "at": now,
                    "source": "crm:INT-9000001-2",
                },
                "sessions": [
                    {
                        "session_id": "s-old",
                        "channel": "voice",
                        "started_at": "2020-01-02T10:00:00Z",
                        "last_at": "2020-01-02T10:12:00Z",
                        "intent": "billing_question",
                        "verified": "pin in ivr",
                        "current": False,
                    },
                    {
                        "session_id": "s-now",
                        "channel": "chat",
                        "started_at": now,
                        "last_at": now,
                        "intent": "billing_past_due",
                        "verified": "verified by OTP SMS in chat, 2 minutes ago",
                        "current": True,
                    },
                ],
                "this_conversation": [{"channel": "chat", "from_event": "h-1"}],
                "history": [
                    {
                        "at": "2021-03-04T09:00:00Z",
                        "channel": "email",
                        "kind": "interaction",
                        "summary": "Notice sent: your bill is past due",
                        "outcome": "sent",
                        "source": "crm:INT-9000001-2",
                    }
                ],
            },
        },
        {
            "type": "alert",
            "id": "alert:repeat",
            "version": 1,
            "status": "ok",
            "data": {
                "severity": "warning",
                "message": "The customer already gave their phone number to the chatbot.",
                "field": "phone",
                "value": "•••-•••-0101",
                "source": "chatbot",
            },
        },
    ]


def _serve_fixture(
    tab: Page, panels: dict[str, list[dict[str, Any]]], answer: dict[str, Any] | None = None
) -> None:
    """The panel page and widget from disk, and canned panels per session, on a fake origin;
    `answer` is what POST .../ask answers."""

    def fulfil(route: Any) -> None:
        url = route.request.url.split("?")[0].removeprefix(FAKE)
        if answer is not None and url.endswith("/ask") and route.request.method == "POST":
            route.fulfill(status=200, body=json.dumps(answer), content_type="application/json")
            return
        if url in ("/panel", "/widget.js"):
            name = "panel.html" if url == "/panel" else "widget.js"
            kind = "text/html" if url == "/panel" else "text/javascript"
            route.fulfill(status=200, body=(STATIC / name).read_bytes(), content_type=kind)
            return
        for sid, cards in panels.items():
            if url == f"/v1/sessions/{sid}/panel":
                body = json.dumps({"session_id": sid, "version": 3, "cards": cards})
                route.fulfill(status=200, body=body, content_type="application/json")
                return
            if url == f"/v1/sessions/{sid}/stream":
                # Nothing new; come back in an hour.
                route.fulfill(
                    status=200, body="retry: 3600000\n\n", content_type="text/event-stream"
                )
                return
        route.fulfill(status=404, body="{}", content_type="application/json")

    tab.route(f"{FAKE}/**", fulfil)


def test_handoff_fields_render_readably_at_360_pixels(page: tuple[Page, list[str]]) -> None:
    tab, problems = page
    now = datetime.now(UTC).isoformat()
    verified = {
        "status": "verified",
        "method": "otp_sms",
        "channel": "chat",
        "at": now,
        "window_minutes": 30,
        "text": "verified by OTP SMS in chat, 2 minutes ago",
        "source": "handoff from chatbot",
    }
    older: list[dict[str, Any]] = [
        {"type": "customer", "id": "customer", "version": 1, "status": "ok",
         "data": {"customer_id": "CUS-1", "name": "Old Server", "verification": None}},
        {"type": "summary", "id": "summary", "version": 1, "status": "ok",
         "data": {"prose": "x", "provided": None, "handoff": None}},
        {"type": "journey", "id": "journey", "version": 1, "status": "ok",
         "data": {"origin": None, "this_conversation": ["chat"], "history": []}},
    ]  # fmt: skip
    variants = {
        "expired": dict(verified, status="expired", text="verified by PIN in IVR, 3 hours ago"),
        "failed": dict(verified, status="failed", text="OTP SMS failed in chat"),
        "none": dict(verified, status="none", method=None, at=None, text="", source=None),
    }
    panels = {"fx": _fixture_cards(now, verification=verified), "old": older}
    for name, v in variants.items():
        panels[f"fx-{name}"] = _fixture_cards(now, verification=v)
    _serve_fixture(tab, panels)
    tab.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"{FAKE}/panel?session=fx&token={AGENT_KEY}")
    panel = tab.locator("copilot-panel")
    card(tab, "journey").wait_for(timeout=15_000)

    badge = panel.get_by_role("status", name="Verification")
    assert badge.get_attribute("data-verification") == "verified"
    text = badge.inner_text().lower()
    assert "verified" in text and "otp" in text and "handoff from chatbot" in text

    given = panel.get_by_role("group", name="Already provided — don't ask again")
    given_text = given.inner_text()
    assert "Phone" in given_text and "•••-•••-0101" in given_text and "chatbot" in given_text
    assert "Card (last 4)" in given_text and "Preferred contact time" in given_text
    assert "Identity check" in given_text and "from handoff from chatbot" not in given_text
    summary = card(tab, "summary")
    assert "Handed over by chatbot (chat)" in summary.inner_text()
    tried = summary.get_by_role("list", name="Bot already tried").inner_text()
    assert "Retry payment" in tried and "declined: card on file expired" in tried
    assert "KB-BILL-7" in tried
    assert (
        "update the autopay card" in summary.get_by_role("list", name="Open questions").inner_text()
    )

    journey = card(tab, "journey")
    # The journey is folded to one line below the first screen; one click opens it.
    assert "came from email" in journey.inner_text() and "Came from:" not in journey.inner_text()
    journey.locator("summary").first.click()
    assert "Came from: the chat link in the billing email" in journey.inner_text()
    timeline = journey.get_by_role("list", name="Sessions and earlier contacts, newest first")
    items = timeline.locator("li")
    assert items.count() == 3
    first = items.nth(0)  # newest first: the current session
    assert first.get_attribute("aria-current") == "true"
    assert "this conversation" in first.inner_text() and "billing past due" in first.inner_text()
    assert "Verified by OTP SMS in chat" in first.inner_text()
    oldest = items.nth(2).inner_text()  # 2020 comes after the 2021 contact
    assert "voice" in oldest and "Verified: pin in ivr" in oldest

    alert = card(tab, "alert:repeat")
    assert alert.get_attribute("aria-label") == "Alert: already provided"
    assert "already gave their phone number" in alert.get_by_role("alert").inner_text()
    assert "Already given: Phone •••-•••-0101 · from chatbot" in alert.inner_text()
    assert "This card could not be shown" not in panel.inner_text()

    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"the panel scrolls sideways: {width} px"
    # Keyboard: the first stop is the customer card's details, which Enter opens; the next one is
    # its sources, with the tool calls behind it. (A click on the status bar starts from the top.)
    tab.mouse.click(2, 2)
    tab.keyboard.press("Tab")
    focused = tab.evaluate(
        "() => { const a = document.querySelector('copilot-panel').shadowRoot.activeElement;"
        " return a ? a.tagName + ' ' + (a.closest('section')?.dataset.card ?? '') : null; }"
    )
    assert focused == "SUMMARY customer"
    assert "CUS-9000001" not in card(tab, "customer").inner_text()
    tab.keyboard.press("Enter")
    assert "CUS-9000001" in card(tab, "customer").inner_text()
    assert "crm.get_customer#1" not in card(tab, "customer").inner_text()
    tab.keyboard.press("Tab")
    tab.keyboard.press("Enter")
    assert "crm.get_customer#1" in card(tab, "customer").inner_text()
    tab.screenshot(path=ARTIFACTS / "handoff-fields-360.png", full_page=True)

    for name, label in (
        ("expired", "Verification expired — verify again"),
        ("failed", "Verification failed"),
        ("none", "Not verified"),
    ):
        tab.goto(f"{FAKE}/panel?session=fx-{name}&token={AGENT_KEY}")
        badge = tab.locator("copilot-panel").get_by_role("status", name="Verification")
        badge.wait_for(timeout=15_000)
        assert badge.get_attribute("data-verification") == name
        assert label in badge.inner_text()
    tab.screenshot(path=ARTIFACTS / "handoff-verification-none.png", full_page=True)

    # An older server sends none of these fields: the cards still render.
    tab.goto(f"{FAKE}/panel?session=old&token={AGENT_KEY}")
    card(tab, "journey").wait_for(timeout=15_000)
    panel = tab.locator("copilot-panel")
    assert "Old Server" in card(tab, "customer").inner_text()
    assert panel.get_by_role("status", name="Verification").count() == 0
    assert "This card could not be shown" not in panel.inner_text()
    card(tab, "journey").locator("summary").first.click()
    assert "No earlier contacts on record." in card(tab, "journey").inner_text()
    assert problems == []


def test_a_bot_handoff_opens_the_panel_with_what_the_customer_already_gave(
    console_url: str, page: tuple[Page, list[str]]
) -> None:
    tab, problems = page
    now = datetime.now(UTC).isoformat()
    handoff = {
        "handoff_id": "browser-h1",
        "bot": "chatbot",
        "channel": "chat",
        "customer": {"customer_id": "CUS-9000001"},
        "verification": {"method": "otp_sms", "channel": "chat", "at": now},
        "intent": "billing_past_due",
        "tried": [
            {"kind": "action", "name": "retry_payment", "outcome": "declined: card on file expired"}
        ],
        "open_questions": ["update the autopay card"],
        "transcript": [
            {"speaker": "customer", "text": "Hi, I got an email saying my bill is past due."},
            {"speaker": "bot", "text": "I can help. What is the phone number on the account?"},
            {"speaker": "customer", "text": "My number is (415) 555-0101"},
            {"speaker": "bot", "text": "Thanks. I retried the payment but it was declined."},
            {"speaker": "customer", "text": "Can I talk to a person about my autopay card?"},
        ],
        "origin": {"channel": "email", "kind": "email_link", "reference": "INT-9000001-2"},
    }
    with httpx.Client(base_url=console_url, headers=bearer("bot"), timeout=60) as bot:
        answer = bot.post("/v1/handoffs", json=handoff)
        assert answer.status_code == 201, answer.text
        sid = answer.json()["session_id"]
    tab.set_viewport_size({"width": 360, "height": 900})
    tab.goto(f"{console_url}/panel?session={sid}&token={AGENT_KEY}")
    panel = tab.locator("copilot-panel")
    card(tab, "customer").get_by_text("Margaret", exact=False).first.wait_for(timeout=30_000)

    badge = card(tab, "customer").get_by_role("status", name="Verification")
    badge.wait_for(timeout=30_000)
    assert badge.get_attribute("data-verification") == "verified"
    # The engine words the method for people ("a texted code"), said once with the badge; the
    # raw method rides along.
    said = badge.inner_text().lower()
    assert said.count("verified") == 1 and "verified by a texted code" in said, said
    assert "otp" in (badge.get_attribute("data-method") or "")
    assert "otp" in (badge.get_attribute("title") or "")

    given = card(tab, "summary").get_by_role("group", name="Already provided — don't ask again")
    given.wait_for(timeout=30_000)
    phone = given.locator('dd[data-field="phone"]').inner_text()
    assert "0101" in phone and "555-0101" not in phone, phone  # masked
    tried = card(tab, "summary").get_by_role("list", name="Bot already tried").inner_text()
    assert "Retry payment" in tried and "declined" in tried
    assert "Handed over by chatbot" in card(tab, "summary").inner_text()
    # After a bot's handoff, what it tried and left open comes right under the header.
    card(tab, "next_best_action").wait_for(timeout=30_000)
    handoff_box = card(tab, "summary").get_by_role("list", name="Open questions").bounding_box()
    next_box = card(tab, "next_best_action").bounding_box()
    customer_box = card(tab, "customer").bounding_box()
    assert handoff_box and next_box and customer_box
    assert customer_box["y"] < handoff_box["y"] < next_box["y"]
    card(tab, "journey").locator("summary").first.click()
    card(tab, "journey").get_by_text("Came from:", exact=False).wait_for(timeout=30_000)
    assert "email" in card(tab, "journey").inner_text().lower()
    assert "this conversation" in card(tab, "journey").inner_text()
    tab.screenshot(path=ARTIFACTS / "handoff-panel.png", full_page=True)

    # The agent asks for what the bot already collected: the panel says so.
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=60) as api:
        ask = {
            "event_id": "browser-agent-1",
            "type": "utterance",
            "speaker": "agent",
            "channel": "chat",
            "text": "Can I have your phone number please?",
        }
        assert api.post(f"/v1/sessions/{sid}/events", json=ask).status_code == 202
    repeat = card(tab, "alert:repeat")
    repeat.wait_for(timeout=30_000)
    assert "phone" in repeat.get_by_role("alert").inner_text().lower()
    assert "0101" in repeat.inner_text()
    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"the panel scrolls sideways: {width} px"
    assert "This card could not be shown" not in panel.inner_text()
    tab.screenshot(path=ARTIFACTS / "handoff-repeat-alert.png", full_page=True)
    assert problems == []


# --- issue 17: the first screen, the agent's language, Ask, reconnecting, the README's pictures ---

DOCS = Path(__file__).resolve().parents[2] / "docs" / "img"
SCENARIOS = Path(__file__).resolve().parents[2] / "evals" / "scenarios"
UUID_RE = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _play(api: httpx.Client, name: str) -> str:
    """A shipped scenario's turns posted as one conversation; the new session's id."""
    sc = yaml.safe_load((SCENARIOS / f"{name}.yaml").read_text())
    channel = sc.get("channel") or "chat"
    sid = str(api.post("/v1/sessions", json={"channel": channel}).json()["session_id"])
    turns = list(sc["turns"])
    if sc.get("metadata"):  # the channel's metadata comes first, as the console and replay send it
        turns.insert(0, {"type": "metadata", "speaker": "system", "data": sc["metadata"]})
    for turn in turns:
        event = {
            "event_id": str(uuid.uuid4()),
            "type": turn.get("type") or "utterance",
            "speaker": turn.get("speaker") or "customer",
            "channel": turn.get("channel") or channel,
            "text": turn.get("text") or "",
        }
        if turn.get("data"):
            event["data"] = turn["data"]
        assert api.post(f"/v1/sessions/{sid}/events", json=event).status_code == 202
    return sid


def _settled(api: httpx.Client, sid: str) -> int:
    """The panel's version once the engine has applied every posted event (202 is a receipt)."""
    last, deadline = -1, time.monotonic() + 60
    while time.monotonic() < deadline:
        version = int(api.get(f"/v1/sessions/{sid}/panel").json()["version"])
        if version == last:
            return version
        last = version
        time.sleep(1.0)
    raise AssertionError(f"session {sid} still changing after 60 s")


def _bottom(locator: Any) -> float:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not laid out"
    return float(box["y"] + box["height"])


def _shown_text(tab: Page) -> str:
    """What the panel shows (its shadow root's rendered text: folded parts are not in it)."""
    return str(
        tab.evaluate(
            "() => document.querySelector('copilot-panel').shadowRoot"
            ".querySelector('.cards').innerText"
        )
    )


def _screenshot(tab: Page, name: str) -> None:
    """A picture for the README, small enough to commit. A test run leaves the checkout clean:
    the picture goes to docs/img only with COPILOT_DOCS_IMAGES=1, else beside the artifacts."""
    folder = DOCS if os.environ.get("COPILOT_DOCS_IMAGES") == "1" else ARTIFACTS
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    tab.screenshot(path=path, animations="disabled", caret="hide")
    assert path.stat().st_size < 300_000, f"{path} is {path.stat().st_size} bytes"


def test_the_first_screen_at_360_by_800_has_what_the_agent_acts_on(
    console_url: str, page: tuple[Page, list[str]], stories_as_told: None
) -> None:
    """Margaret's past-due bill: header, next step with its button, offer and best article fit
    one 360 x 800 screen, in the agent's words; the rest is folded one click away."""
    tab, problems = page
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=60) as api:
        sid = _play(api, "past-due-autopay")
    tab.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"{console_url}/panel?session={sid}&token={AGENT_KEY}")
    panel = tab.locator("copilot-panel")
    for card_id in ("customer", "next_best_action", "offer", "knowledge", "journey", "mood"):
        card(tab, card_id).wait_for(timeout=30_000)
    header = card(tab, "customer")
    header.get_by_text("Margaret Chen").wait_for(timeout=15_000)
    situation = header.get_by_label("Intent, mood and alerts")
    situation.get_by_text("Mood: negative", exact=False).wait_for(timeout=15_000)
    button = card(tab, "next_best_action").locator("button.primary")
    best = card(tab, "knowledge").locator("[data-best]")
    shown = {
        "name": header.get_by_text("Margaret Chen"),
        "verification": header.get_by_role("status", name="Verification"),
        "intent and mood": situation,
        "next step": card(tab, "next_best_action").get_by_text("Verify the customer").first,
        "its button": button,
        "offer": card(tab, "offer"),
        "best article": best,
    }
    for what, where in shown.items():
        assert _bottom(where) < 800, f"{what} is below the first screen"
    # Everything else is folded to a line, one click away.
    for card_id in ("summary", "mood", "intent", "journey"):
        fold = card(tab, card_id).locator("details.fold")
        assert fold.get_attribute("open") is None, f"{card_id} is not folded"
    height = tab.evaluate("() => document.scrollingElement.scrollHeight")
    assert height < 1400, f"the panel is {height} px long"
    # The agent's language: money one way, no codes, ids, tool names or raw scores.
    text = _shown_text(tab)
    assert "$103.08" in text and re.search(r"(?<![$\d])103\.08", text) is None, text
    # A raw code stays only where an article quotes it as code.
    quoted = tab.evaluate(
        "() => [...document.querySelector('copilot-panel').shadowRoot.querySelectorAll('code')]"
        ".filter((c) => c.offsetParent && c.textContent === 'card_expired').length"
    )
    assert text.count("card_expired") == quoted and "card expired" in text
    assert re.search(UUID_RE, text) is None and sid not in text
    assert not re.search(r"\b[a-z]+\.[a-z]+_[a-z_]+\b", text), "a tool name is on a card"
    assert "uses " not in text and "0.82" not in text
    assert "crm.get_profile:ok" not in text
    more = card(tab, "customer").get_by_text("Customer details", exact=False)
    assert "Plus 15 GB" not in card(tab, "customer").inner_text()
    more.click()
    assert "Plus 15 GB" in card(tab, "customer").inner_text()  # usage history, one click away
    more.click()
    # Ask inside the panel: the best passage comes back with the article it is from.
    ask = panel.get_by_role("region", name="Ask the copilot")
    ask.get_by_role("textbox").fill("Why did autopay fail?")
    ask.get_by_role("button", name="Ask").click()
    ask.get_by_text("Sources:", exact=False).wait_for(timeout=30_000)
    assert "autopay" in ask.inner_text().lower()
    assert "#" not in ask.get_by_text("Sources:", exact=False).inner_text()
    tab.evaluate("() => window.scrollTo(0, 0)")
    _screenshot(tab, "panel-360.png")
    assert problems == []


@pytest.mark.parametrize(
    "scenario",
    [
        "angry-competitor",  # the tallest: an escalation alert above everything
        "overage-unlimited-accepted",  # an approval with its preview
        "recovered-customer-gets-offer",  # an offer shown, with its price and why
        "bot-handover-verified-autopay",  # the bot's part first
    ],
)
def test_every_story_puts_what_the_agent_acts_on_on_the_first_screen(
    console_url: str, page: tuple[Page, list[str]], stories_as_told: None, scenario: str
) -> None:
    """Whatever the story: the header, the next step's button, any approval with its preview,
    the offer and the best article within 360 x 800. After a bot's handoff, what the bot did
    and was told comes before the next step, and the article may follow below."""
    tab, problems = page
    with httpx.Client(base_url=console_url, headers=bearer("agent"), timeout=60) as api:
        sid = _play(api, scenario)
        version = _settled(api, sid)
    tab.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"{console_url}/panel?session={sid}&token={AGENT_KEY}")
    tab.wait_for_function(
        f"() => Number(document.querySelector('copilot-panel').dataset.version) >= {version}",
        timeout=30_000,
    )
    tab.screenshot(path=ARTIFACTS / f"first-screen-{scenario}.png")
    handoff = card(tab, "summary").get_by_text("Handed over by", exact=False)
    shown = {"header": card(tab, "customer")}
    nba = card(tab, "next_best_action")
    if nba.locator("button.primary").count():
        shown["next step's button"] = nba.locator("button.primary").first
    actions = tab.locator('copilot-panel section[data-card^="action:"]')
    for n in range(actions.count()):
        if actions.nth(n).get_by_role("button", name="Approve").count():
            shown[f"approval {n}"] = actions.nth(n).get_by_role("button", name="Approve")
    if handoff.count():
        shown["what the bot handed over"] = handoff.first
        assert _bottom(handoff.first) < _bottom(nba.locator("p.big").first)
    else:
        shown["offer"] = card(tab, "offer")
        best = card(tab, "knowledge").locator("[data-best]")
        if best.count():
            shown["best article"] = best
    for what, where in shown.items():
        assert _bottom(where) < 800, f"{scenario}: {what} is below the first screen"
    offer = card(tab, "offer")
    if offer.locator("button.primary").count():  # an offer shown says its price and why
        assert re.search(r"\$\d[\d,]*\.\d\d", offer.inner_text()) and "Why:" in offer.inner_text()
    assert problems == []


def _agent_language_cards() -> list[dict[str, Any]]:
    """Cards with what the engine writes for its logs: cue dumps, codes, bare amounts, Markdown."""
    dump = (
        'escalation risk 0.92; cues: supervisor ("supervisor"), competitor ("switching to Zephyr'
        ' Mobile"); after: "Get me a supervisor."'
    )
    ok = {"status": "ok", "provenance": {"events": [], "tool_calls": [], "passages": []}}
    snippet = (
        "## Waiving a late fee\n\nOffer the **one-time waiver** when *autopay* failed:\n\n"
        "- check `card_expired` on the account\n- credit the fee\n\n"
        "See [the fee policy](https://help.example/fees) or [this](javascript:alert(1)).\n"
        '<img src=x onerror="window.pwned=1"> <script>window.pwned=1</script>'
    )
    return [
        {**ok, "type": "alert", "id": "alert:escalation", "version": 2,
         "data": {"severity": "high", "message": dump}},
        {**ok, "type": "mood", "id": "mood", "version": 2,
         "data": {"trend": [-0.9], "current": {"polarity": -0.9, "label": "negative",
                  "cues": [{"kind": "supervisor", "evidence": "supervisor"},
                           {"kind": "competitor", "evidence": "switching to Zephyr Mobile"}],
                  "escalation_risk": 0.88},
                  "direction": "worsening", "reason": "dropped", "alert": True,
                  "alert_reason": dump, "alert_raised": True, "risk": 0.92, "moved_by": None}},
        {**ok, "type": "customer", "id": "customer", "version": 2,
         "data": {"customer_id": "CUS-1", "name": "Margaret Chen", "tier": "platinum",
                  "matched_by": ["phone"],
                  "sources": ["crm.get_profile:ok", "billing.get_customer_billing:timeout"],
                  "accounts": [
                      {"account_number": "BA1", "balance": 1234.5,
                       "past_due": {"invoice_id": "I1", "amount": 1234.5, "due_date": "2026-11-29",
                                    "days_past_due": 3, "late_fees": 15.0},
                       "autopay": {"status": "failed", "card": "Visa ending 4417",
                                   "card_expired": True, "last_failure_reason": "card_expired"},
                       "usage": []}]}},
        {**ok, "type": "next_best_action", "id": "next_best_action", "version": 2,
         "data": {"next": {"step": "waive-fee", "title": "Waive the late fee", "say": "",
                           "uses": "billing.credit_late_fee", "waiting_for": []},
                  "reason": "Past-due bill: 4 of 7 steps done; autopay failed (card_expired)",
                  "playbook": "Past-due bill", "count": "4 of 7 steps done",
                  "escalation": {"step": "escalate", "title": "Escalate to a supervisor",
                                 "uses": "escalate.supervisor", "reason": dump},
                  "steps": [{"id": "waive-fee", "title": "Waive the late fee", "status": "next",
                             "evidence": []}]}},
        {**ok, "type": "action", "id": "action:act-0123456789abcdef", "version": 1,
         "data": {"action_id": "act-0123456789abcdef", "kind": "credit_late_fee",
                  "target": "account BA1", "request": {"kind": "credit_late_fee"},
                  "why": "step waive-fee: Waive the late fee", "proposed_by": "playbook",
                  "status": "proposed", "needs_approval": True,
                  "preview": "Will credit 15.00 to account BA1",
                  "changes": {"balance": "1234.50 → 1219.50"}, "blocked": None,
                  "decided_by": None, "decided_at": None, "result": None}},
        {**ok, "type": "offer", "id": "offer", "version": 2,
         "data": {"offer": {"offer_id": "unlimited-upgrade", "title": "Move to Unlimited",
                            "kind": "plan_change", "score": 0.83,
                            "why": "over the allowance in 3 of 4 months", "plan_code": "UNL",
                            "sku": None, "line_id": "L1", "sections": [], "evidence": [],
                            "price": {"amount": 75.0, "per": "month"}},
                  "held_back": None, "answered": {}}},
        {**ok, "type": "knowledge", "id": "knowledge", "version": 2,
         "data": {"status": "answered", "confidence": 0.82, "reason": "3 passages; top 0.82",
                  "hits": [{"chunk_id": "billing-late-fee#2",
                            "citation": {"article_id": "billing-late-fee",
                                         "title": "Late fee waivers", "section": "",
                                         "url": "https://help.example/late-fee",
                                         "snippet": snippet}}]}},
        {**ok, "type": "reply_draft", "id": "reply_draft", "version": 2,
         "data": {"text": "Hi Margaret, I've waived the $15.00 late fee.", "source": "llm",
                  "citations": ["billing-late-fee#2"]}},
    ]  # fmt: skip


def test_the_cards_speak_the_agents_language_and_ask_lives_in_the_panel(
    page: tuple[Page, list[str]],
) -> None:
    tab, problems = page
    answer = {
        "status": "offline",
        "answer": "Late fee waivers: offer **one** waiver a year.",
        "citations": ["billing-late-fee#2"],
    }
    _serve_fixture(tab, {"lang": _agent_language_cards()}, answer=answer)
    tab.set_viewport_size({"width": 360, "height": 800})
    tab.goto(f"{FAKE}/panel?session=lang&token={AGENT_KEY}")
    panel = tab.locator("copilot-panel")
    card(tab, "knowledge").wait_for(timeout=15_000)
    text = _shown_text(tab)
    # One human escalation line, not the cue dump three times.
    assert "cues:" not in text and "0.92" not in text, text
    assert text.count("asked for a supervisor") == 1 and text.count("Zephyr") == 1, text
    assert "Escalation risk 92%" in text
    # No tool names, step ids or raw codes; money one way.
    assert "billing.credit_late_fee" not in text and "uses" not in text
    assert "(card expired)" in text or "card expired" in text
    assert "act-0123456789abcdef" not in text and "waive-fee" not in text, text
    assert "$1,234.50" in text and "$1,234.50 → $1,219.50" in text and "credit $15.00" in text
    assert re.search(r"(?<![$\d,])1234\.50", text) is None
    # The offer's buttons say what the customer did.
    offer = card(tab, "offer")
    assert offer.get_by_role("button", name="Customer accepted: Move to Unlimited").is_visible()
    assert offer.get_by_role("button", name="Customer declined: Move to Unlimited").is_visible()
    assert "0.83" not in offer.inner_text() and "Why: over the allowance" in offer.inner_text()
    assert offer.locator("[data-field=price]").inner_text() == "$75.00 a month"
    # The systems consulted, in words; the raw call only in the tooltip.
    chips = card(tab, "customer").get_by_label("Systems consulted").locator("li")
    assert [c.strip() for c in chips.all_text_contents()] == [
        "CRM profile",
        "Billing: did not answer",
    ]
    # Markdown rendered, nothing in it parsed as HTML.
    best = card(tab, "knowledge").locator("[data-best]")
    assert best.locator("strong", has_text="one-time waiver").count() == 1
    assert best.locator("em", has_text="autopay").count() == 1
    assert best.locator("li").count() == 2
    assert best.locator("a[href='https://help.example/fees']").count() == 1
    assert best.locator("a[href^='javascript']").count() == 0
    assert "<img src=x" in best.inner_text() and best.locator("img, script").count() == 0
    assert "##" not in best.inner_text() and "**" not in best.inner_text()
    assert tab.evaluate("() => window.pwned === undefined")
    # The reply draft: Insert hands the text to the host page, Copy copies it.
    draft = card(tab, "reply_draft")
    assert "Late fee waivers" in draft.inner_text() and "#2" not in draft.inner_text()
    assert (
        draft.locator("[data-field=draft-source]")
        .inner_text()
        .startswith("Written by the model, based on: Late fee waivers")
    )
    tab.evaluate(
        "() => document.addEventListener('copilot-insert',"
        " (e) => { window.inserted = e.detail.text; })"
    )
    draft.get_by_role("button", name="Insert the reply draft into the reply box").click()
    assert tab.evaluate("() => window.inserted") == "Hi Margaret, I've waived the $15.00 late fee."
    draft.get_by_role("button", name="Copy the reply draft").click()
    draft.get_by_text(re.compile("Copied|Select the text")).wait_for(timeout=5_000)
    # Ask inside the panel: the answer in Markdown, with the article it comes from.
    ask = panel.get_by_role("region", name="Ask the copilot")
    ask.get_by_role("textbox").fill("Can I waive the late fee?")
    ask.get_by_role("textbox").press("Enter")
    ask.get_by_text("Sources: Late fee waivers").wait_for(timeout=10_000)
    assert ask.locator("strong", has_text="one").count() == 1
    assert "best article passage" in ask.inner_text()
    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"the panel scrolls sideways: {width} px"
    assert problems == []


def test_a_stream_the_server_ends_shows_reconnecting_and_resumes(
    page: tuple[Page, list[str]],
) -> None:
    """A graceful stop ends the stream, then the server is gone a while: the panel says
    "Reconnecting", and when the server is back it resumes from the version it had."""
    tab, problems = page
    now = datetime.now(UTC).isoformat()
    cards = _fixture_cards(now, verification=None)
    _serve_fixture(tab, {"rc": cards})
    state = {"mode": "ended"}
    resumed_from: list[str] = []
    later = dict(cards[0], version=4, data=dict(cards[0]["data"], name="Margaret C. Chen"))
    update = {"session_id": "rc", "version": 4, "event_id": "e9", "source": "fast",
              "latency_ms": 5.0, "cards": [later]}  # fmt: skip

    def stream(route: Any) -> None:
        if state["mode"] == "down":
            route.abort("connectionrefused")
            return
        body = "retry: 300\n\n"
        if state["mode"] == "back":
            resumed_from.append(
                route.request.headers.get("last-event-id")
                or route.request.url.partition("last_event_id=")[2].split("&")[0]
            )
            body += f"id: 4\nevent: panel_update\ndata: {json.dumps(update)}\n\n"
        route.fulfill(status=200, body=body, content_type="text/event-stream")

    tab.route(f"{FAKE}/v1/sessions/rc/stream**", stream)
    tab.goto(f"{FAKE}/panel?session=rc&token={AGENT_KEY}")
    card(tab, "customer").wait_for(timeout=15_000)
    state["mode"] = "down"  # the stream ended (the server is stopping) and nobody answers
    status = tab.locator("copilot-panel").get_by_role("status").filter(has_text="Reconnecting")
    status.first.wait_for(timeout=15_000)
    assert tab.locator("copilot-panel").get_attribute("data-state") == "reconnecting"
    state["mode"] = "back"
    card(tab, "customer").get_by_text("Margaret C. Chen").wait_for(timeout=20_000)
    assert tab.locator("copilot-panel").get_attribute("data-version") == "4"
    assert resumed_from and resumed_from[0] == "3", resumed_from
    # The refused connections are the browser's own console errors; nothing else went wrong.
    assert [p for p in problems if "ERR_CONNECTION_REFUSED" not in p and "stream" not in p] == []


def test_a_live_call_shows_its_words_under_the_top_bar_as_they_are_spoken(
    page: tuple[Page, list[str]],
) -> None:
    """The panel stream's transcript lines (a call's partials, then its final) show as one
    caption under the top bar: a partial in italics with an ellipsis, replaced by the final."""
    tab, problems = page
    cards = _fixture_cards(datetime.now(UTC).isoformat(), verification=None)
    _serve_fixture(tab, {"call": cards})
    said = {"session_id": "call", "speaker": "customer", "utterance": 1, "start_s": 4.1}
    lines = [
        {**said, "type": "transcript", "text": "My calls keep", "final": False, "end_s": 5.0},
        {**said, "type": "transcript", "text": "My calls keep dropping at home.", "final": True,
         "end_s": 6.2, "event_id": "call-CA1-inbound-1"},
    ]  # fmt: skip
    state = {"sent": 0, "allowed": 1}  # the final waits until the partial has been seen

    def stream(route: Any) -> None:
        body = "retry: 300\n\n"
        if state["sent"] < state["allowed"]:
            body += f"event: transcript\ndata: {json.dumps(lines[state['sent']])}\n\n"
            state["sent"] += 1
        route.fulfill(status=200, body=body, content_type="text/event-stream")

    tab.set_viewport_size({"width": 360, "height": 800})
    tab.route(f"{FAKE}/v1/sessions/call/stream**", stream)
    tab.goto(f"{FAKE}/panel?session=call&token={AGENT_KEY}")
    panel = tab.locator("copilot-panel")
    caption = panel.locator(".caption")
    caption.get_by_text("My calls keep…").wait_for(timeout=15_000)
    assert caption.get_attribute("data-final") == "false"
    assert caption.locator("strong").inner_text().strip() == "Customer:"
    state["allowed"] = 2
    caption.get_by_text("My calls keep dropping at home.").wait_for(timeout=15_000)
    assert caption.get_attribute("data-final") == "true"
    width = tab.evaluate("() => document.scrollingElement.scrollWidth")
    assert width <= 360, f"the caption makes the panel scroll sideways: {width} px"
    assert problems == []


def test_a_graceful_stop_of_the_real_server_shows_reconnecting_and_resumes_after_restart(
    page: tuple[Page, list[str]],
    request: pytest.FixtureRequest,
    tmp_path: Path,
) -> None:
    """The copilot itself stopped as uvicorn stops it (SIGTERM's path), then started again on
    the same port over the same session log: the panel says "Reconnecting" meanwhile, and the
    next update reaches it on the new server without a reload."""
    from copilot.systems import build_systems
    from server.commands.serve import Draining
    from tests.conftest import api_keys, shipped_engine
    from tools.services import start_apps

    tab, problems = page
    data_dir, demo_kb, embedder, models = (
        request.getfixturevalue(n) for n in ("data_dir", "demo_kb", "embedder", "models")
    )
    settings = copied_settings(data_dir, demo_kb, tmp_path)
    db = f"sqlite:///{tmp_path / 'sessions.db'}"

    def server(port: int = 0) -> Any:
        engine = shipped_engine(db, build_systems(settings), demo_kb, embedder, models)
        app = create_app(settings, engine=engine, keys=api_keys())
        # `copilot serve`'s own server class: a stop ends the streams, then drains.
        return start_apps({"copilot": app}, ports={"copilot": port}, kind=Draining)

    def say(url: str, sid: str, text: str) -> None:
        event = {"event_id": str(uuid.uuid4()), "type": "utterance", "speaker": "customer",
                 "channel": "chat", "text": text}  # fmt: skip
        with httpx.Client(base_url=url, headers=bearer("agent"), timeout=60) as api:
            assert api.post(f"/v1/sessions/{sid}/events", json=event).status_code == 202

    first = server()
    url = first.urls["copilot"]
    port = int(url.rsplit(":", 1)[1])
    try:
        with httpx.Client(base_url=url, headers=bearer("agent"), timeout=60) as api:
            sid = str(api.post("/v1/sessions", json={"channel": "chat"}).json()["session_id"])
        say(url, sid, "Hi, my bill is past due and autopay did not go through")
        tab.goto(f"{url}/panel?session={sid}&token={AGENT_KEY}")
        panel = tab.locator("copilot-panel")
        card(tab, "knowledge").wait_for(timeout=30_000)
        panel.get_by_role("status").filter(has_text="Live").first.wait_for(timeout=15_000)
        before = int(panel.get_attribute("data-version") or 0)
    finally:
        first.stop()
    panel.get_by_role("status").filter(has_text="Reconnecting").first.wait_for(timeout=20_000)
    assert panel.get_attribute("data-state") == "reconnecting"
    with server(port) as second:
        panel.get_by_role("status").filter(has_text="Live").first.wait_for(timeout=30_000)
        say(second.urls["copilot"], sid, "I want to switch to Zephyr Mobile, this is the last time")
        tab.wait_for_function(
            f"() => Number(document.querySelector('copilot-panel').dataset.version) > {before}",
            timeout=30_000,
        )
        card(tab, "mood").get_by_text("negative", exact=False).first.wait_for(timeout=15_000)
    # While the server was gone the browser logged its refused connections; nothing else.
    assert [p for p in problems if "ERR_CONNECTION_REFUSED" not in p and "stream" not in p] == []


def test_the_console_keeps_its_transcript_on_reload_at_1440_pixels(
    console_url: str, page: tuple[Page, list[str]]
) -> None:
    tab, problems = page
    tab.set_viewport_size({"width": 1440, "height": 900})
    tab.goto(f"{console_url}/?token={AGENT_KEY}")
    lines = [
        ("customer", "Hi, I got an email saying my bill is past due. My number is (415) 555-0101."),
        ("agent", "I'm sorry about that, let me look at your account."),
        ("customer", "I've been on autopay for ten years, why did this happen?"),
    ]
    for speaker, text in lines:
        tab.locator("#speaker").select_option(speaker)
        tab.locator("#text").fill(text)
        tab.locator("#send").click()
        tab.locator("#transcript li").filter(has_text=text).wait_for()
    tab.wait_for_function(
        "() => [...document.querySelectorAll('#transcript .meta')]"
        ".every((m) => /v\\d/.test(m.textContent))",
        timeout=30_000,
    )
    card(tab, "knowledge").locator("[data-best]").wait_for(timeout=30_000)
    assert "session=" in tab.url and "token" not in tab.url
    tab.reload()
    transcript = tab.locator("#transcript")
    transcript.get_by_text(lines[-1][1]).wait_for(timeout=10_000)
    assert transcript.locator("li").count() == len(lines)
    assert "sending" not in transcript.inner_text()
    card(tab, "knowledge").locator("[data-best]").wait_for(timeout=30_000)
    # The console uses the panel's Ask box: there is no second one.
    assert tab.locator("#ask-form").count() == 0
    assert tab.locator("copilot-panel").get_by_role("region", name="Ask the copilot").count() == 1
    _screenshot(tab, "console-1440.png")
    assert problems == []
