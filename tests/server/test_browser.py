"""The agent console and the widget in a real browser: Playwright driving Debian's chromium.

Screenshots land in var/test-artifacts/browser/ for a person to look at.
"""

from __future__ import annotations

from collections.abc import Iterator
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
    # The agent explains; the playbook's next step is the autopay card, proposed as an action.
    tab.locator("#speaker").select_option("agent")
    tab.locator("#text").fill("Your autopay card expired in September, so the payment failed.")
    tab.locator("#send").click()
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
