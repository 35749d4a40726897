"""The agent console and the widget in a real browser: Playwright driving Debian's chromium.

Screenshots land in var/test-artifacts/browser/ for a person to look at.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.sync_api import ConsoleMessage, Page, sync_playwright

from tests.conftest import bearer
from tests.server.conftest import copied_settings, serving

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
def console_url(
    data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serving(copied_settings(data_dir, demo_kb, tmp_path_factory.mktemp("browser"))) as url:
        yield url


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
    first_version = int(tab.locator("copilot-panel").get_attribute("data-version") or 0)
    assert first_version >= 3
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


def _serve_fixture(tab: Page, panels: dict[str, list[dict[str, Any]]]) -> None:
    """The panel page and widget from disk, and canned panels per session, on a fake origin."""

    def fulfil(route: Any) -> None:
        url = route.request.url.split("?")[0].removeprefix(FAKE)
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
    # Keyboard: every card region is reachable and the provenance disclosures still open.
    # Keyboard: the first stop is the customer card's sources, which Enter opens.
    tab.keyboard.press("Tab")
    focused = tab.evaluate(
        "() => { const a = document.querySelector('copilot-panel').shadowRoot.activeElement;"
        " return a ? a.tagName + ' ' + (a.closest('section')?.dataset.card ?? '') : null; }"
    )
    assert focused == "SUMMARY customer"
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
    # The engine words the method for people ("a texted code"); the raw method rides along.
    assert badge.inner_text().lower().count("verified") >= 2, badge.inner_text()
    assert "otp" in (badge.get_attribute("data-method") or "")
    assert "otp" in (badge.get_attribute("title") or "")

    given = card(tab, "summary").get_by_role("group", name="Already provided — don't ask again")
    given.wait_for(timeout=30_000)
    phone = given.locator('dd[data-field="phone"]').inner_text()
    assert "0101" in phone and "555-0101" not in phone, phone  # masked
    tried = card(tab, "summary").get_by_role("list", name="Bot already tried").inner_text()
    assert "Retry payment" in tried and "declined" in tried
    assert "Handed over by chatbot" in card(tab, "summary").inner_text()
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
