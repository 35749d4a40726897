"""Playbooks: the file format's errors, the tracker's bookkeeping, and NBA and offers live."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from copilot import scenario as scenarios
from copilot.engine import Engine
from copilot.intent import load_default as load_intents
from copilot.offers import OfferLedger
from copilot.playbooks import Facts, PlaybookSet, load_default, track
from tests.conftest import FullEngine
from tools.errors import InvalidInput
from tools.kb.embeddings import Embedder

SCENARIOS = Path(__file__).resolve().parents[2] / "evals" / "scenarios"


def write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(body)
    return path


STEP = "{id: a, title: A, done_when: [{action: a}]}"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            "name: t\nplaybooks: [{intent: x, title: X, steps: [" + STEP + ", " + STEP + "]}]",
            "twice",
        ),
        (
            "name: t\nplaybooks: [{intent: x, title: X, steps: "
            "[{id: a, title: A, requires: [b], done_when: [{action: a}]}]}]",
            "neither a gate",
        ),
        (
            "name: t\nplaybooks: [{intent: x, title: X, steps: "
            "[{id: a, title: A, when: {fact: rich}, done_when: [{action: a}]}]}]",
            "unknown fact 'rich'",
        ),
        (
            "name: t\nplaybooks: [{intent: x, title: X, steps: "
            "[{id: a, title: A, done_when: [{}]}]}]",
            "at least one field",
        ),
        (
            "name: t\nplaybooks: [{intent: x, title: X, steps: [" + STEP + "]}, "
            "{intent: x, title: Y, steps: [" + STEP + "]}]",
            "more than one playbook",
        ),
        ("name: t\nplaybooks: [{intent: x, title: X, steps: [{id: a, title: A}]}]", "done_when"),
        ("name: t\nplaybooks: [\n  {intent: x", "not valid YAML"),
    ],
)
def test_bad_playbook_files_are_named_errors(tmp_path: Path, body: str, needle: str) -> None:
    with pytest.raises(InvalidInput) as err:
        PlaybookSet.load(write(tmp_path, body))
    assert needle in err.value.message and "p.yaml" in err.value.message


def test_error_names_the_playbook(tmp_path: Path) -> None:
    body = "name: t\nplaybooks: [{intent: refund, title: R, steps: [{id: a, title: A}]}]"
    with pytest.raises(InvalidInput, match=r"playbook 'refund': steps\.0\.done_when"):
        PlaybookSet.load(write(tmp_path, body))


def test_every_shipped_playbook_is_for_an_intent_the_model_knows() -> None:
    labels = set(load_intents(Embedder()).labels)
    intents = {p.intent for p in load_default().playbooks}
    assert intents <= labels, intents - labels
    assert len(intents) >= 25  # all but small talk


def test_tracker_marks_steps_and_explains_the_next() -> None:
    playbook = load_default().for_intent("billing_past_due")
    assert playbook is not None
    problems = {"past_due": "BA1 past due 80.00", "autopay_failed": "autopay failed"}
    facts = Facts(
        identity="matched",
        verified=True,
        identity_events=["e1"],
        account_pulled=True,
        view_facts=dict(problems),
        opened=dict(problems),
        agent_turns=[("e2", "Your autopay card expired, so the payment was declined.")],
    )
    progress = track(playbook, facts)
    status = {s.id: s.status for s in progress.steps}
    assert status["verify"] == status["pull-account"] == status["explain-cause"] == "done"
    assert progress.next is not None and progress.next.id == "update-card"
    assert status["waive-fee"] == "not_needed"  # no late fee in the view
    assert "autopay failed" in progress.reason and not progress.resolved
    assert progress.count == "3 of 6 steps done"
    # A new autopay card does not pay what is overdue: the payment is still to take.
    facts.actions = {"update_autopay": "e3"}
    progress = track(playbook, facts)
    assert progress.next is not None and progress.next.id == "take-payment"
    assert not progress.resolved and "e3" in progress.events
    # The payment's result alone does not resolve it while billing still reads past due ...
    facts.actions["take_payment"] = "e4"
    progress = track(playbook, facts)
    assert progress.next is not None and progress.next.id == "wrap-up"
    assert not progress.resolved and "still BA1 past due 80.00" in progress.unresolved
    # ... and a fresh read with the balance settled does; the count keeps its steps.
    facts.view_facts = {}
    progress = track(playbook, facts)
    assert progress.resolved and progress.count == "5 of 6 steps done"
    # An action still waiting for approval keeps it open.
    facts.pending = ["act-1"]
    assert not track(playbook, facts).resolved


def test_a_match_identifies_but_only_a_check_verifies() -> None:
    playbook = load_default().for_intent("billing_past_due")
    assert playbook is not None
    matched = track(playbook, Facts(identity="matched", account_pulled=True))
    assert matched.next is not None and matched.next.id == "verify"
    assert {s.id: s.status for s in matched.steps}["verify"] == "next"
    verified = track(playbook, Facts(identity="matched", verified=True, account_pulled=True))
    assert {s.id: s.status for s in verified.steps}["verify"] == "done"


def test_a_step_waits_for_its_gate() -> None:
    playbook = load_default().for_intent("membership_card_replacement")
    assert playbook is not None
    progress = track(playbook, Facts(identity="ambiguous"))
    assert progress.next is not None and progress.next.id == "verify"
    progress = track(playbook, Facts(actions={"replace_membership_card": "e9"}))
    # Done out of order still counts, but verification is still the next thing to do.
    assert {s.id: s.status for s in progress.steps}["order-card"] == "done"
    assert progress.next is not None and progress.next.id == "verify"


def test_a_fact_from_a_system_that_is_down_keeps_its_step() -> None:
    playbook = load_default().for_intent("billing_past_due")
    assert playbook is not None
    progress = track(playbook, Facts(identity="matched", verified=True, account_pulled=True))
    assert progress.next is not None and progress.next.id == "wrap-up"  # nothing is wrong
    down = track(
        playbook,
        Facts(identity="matched", verified=True, account_pulled=True, unavailable={"billing"}),
    )
    assert down.next is not None and down.next.id == "explain-cause"
    assert "billing is unavailable" in down.reason


@pytest.mark.anyio
async def test_offers_are_recorded_and_survive_a_restart(
    full_engine: FullEngine, tmp_path: Path
) -> None:
    url = f"sqlite:///{tmp_path / 'sessions.db'}"

    def engine() -> Engine:
        return full_engine(url)

    scenario = scenarios.load(SCENARIOS / "data-overage-offer-dismissed.yaml")
    events = scenarios.events(scenario, "s1")
    first = engine()
    for event in events[:-1]:
        await first.handle(event)
    offer: dict[str, Any] = next(c.data for c in first.panel("s1") if c.id == "offer")
    assert offer["offer"]["offer_id"] == "unlimited-upgrade" and "GB" in offer["why"]
    # A new process picks the session up from the log and takes the customer's answer.
    second = engine()
    update = await second.handle(events[-1])
    assert update is not None
    after = next(c.data for c in second.panel("s1") if c.id == "offer")
    assert after["offer"] is None and after["answered"] == {"unlimited-upgrade": "dismissed"}
    stats = {s.offer_id: s for s in OfferLedger(url).stats()}["unlimited-upgrade"]
    assert (stats.shown, stats.dismissed, stats.accepted) == (1, 1, 0)
    # The same answer again is a duplicate event: nothing changes, nothing is counted twice.
    assert await second.handle(events[-1]) is None
    assert {s.offer_id: s for s in OfferLedger(url).stats()}["unlimited-upgrade"].dismissed == 1


def test_a_bots_goodbye_does_not_close_the_agents_conversation() -> None:
    playbook = load_default().for_intent("order_status")
    assert playbook is not None
    bot = ("b1", "Your order is in transit. Is there anything else?")
    agent = ("a1", "FedEx shows it out for delivery today.")
    facts = Facts(identity="matched", verified=True, account_pulled=True, agent_turns=[bot, agent])
    facts.human_turns = [agent]
    progress = track(playbook, facts)
    assert progress.next is not None and progress.next.id == "wrap-up"
    facts.human_turns = None  # where speakers are not told apart, any agent-side turn counts
    assert track(playbook, facts).next is None


def test_a_sim_swap_needs_a_code_not_just_the_number() -> None:
    playbook = load_default().for_intent("sim_esim_activation")
    assert playbook is not None
    progress = track(playbook, Facts(identity="matched", actions={"activate_sim": "e2"}))
    assert progress.next is not None and progress.next.id == "send-code"
    sent = track(playbook, Facts(identity="matched", actions={"send_otp": "e1"}))
    assert sent.next is not None and sent.next.id == "verify"  # sending a code is not passing it
    assert track(playbook, Facts(identity="matched", verified=True)).next.id == "activate"  # type: ignore[union-attr]
