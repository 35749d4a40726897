"""One policy for every reply draft: the model's is checked as the engine's own is, and the
offline draft stands where the model's does not."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from copilot import card_models as cm
from copilot.llm import overlay
from copilot.llm.brief import Brief
from copilot.llm.drafts import PanelDraft
from copilot.llm.notes import LlmNotes
from copilot.llm.policy import check
from copilot.panel import Card
from copilot.reply_policy import ReplyFacts, amounts_in, money, reply_problem
from tests.card_data import data

FACTS = ReplyFacts(
    accounts=frozenset({"BA90000001"}),
    orders=frozenset(),
    amounts=frozenset({Decimal("103.08"), Decimal("15.00")}),
)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("Margaret, I've waived the late fee.", "before anything shows it is done"),
        ("Your payment went through, thanks!", "before anything shows it is done"),
        ("Good news: you're verified now.", "it is verified"),
        ("This is now resolved.", "it is resolved"),
        ("Your balance is $99.00.", "names $99.00"),
        ("Your card 4111 1111 1111 1111 is on file.", "card data"),
        ("I see account BA90000002 is past due.", "not this customer's"),
    ],
)
def test_what_no_draft_may_say(text: str, why: str) -> None:
    assert why in (reply_problem(text, FACTS) or "")


@pytest.mark.parametrize(
    "text",
    [
        "Margaret, $103.08 has been past due. Once it's paid, your account is back in order.",
        "Once you add a new card, I'll retry the payment for you.",
        "If it is resolved by then, you'll get an email.",
        "A one-time late fee of $15 was added.",
    ],
)
def test_what_a_draft_may_say(text: str) -> None:
    assert reply_problem(text, FACTS) is None


def test_claims_pass_once_the_session_has_the_evidence() -> None:
    done = ReplyFacts(actions=frozenset({"waive_late_fee"}), verified=True, resolved=True)
    assert reply_problem("I've waived the fee, you're verified and it is resolved.", done) is None


def test_the_panels_money_format() -> None:
    assert money(103.08) == "$103.08"
    assert money(1234.5) == "$1,234.50"
    assert amounts_in("$1,234.50 and $15") == {Decimal("1234.50"), Decimal("15.00")}


def brief(facts: ReplyFacts) -> Brief:
    return Brief(
        session_id="s1",
        customer_id="CUS-9000001",
        facts=[],
        playbook="",
        steps=[],
        next_step=None,
        offer=None,
        offer_gate="",
        passages=[],
        previous_summary="",
        new_turns=[],
        omitted=0,
        covers=0,
        reply=facts,
    )


def test_the_models_draft_goes_through_the_same_check() -> None:
    draft = PanelDraft(summary="s", reply_draft="I've removed the $15.00 late fee for you.")
    refused = asyncio.run(check(draft, brief(FACTS), set(), None))
    assert refused.reply is None and "done" in refused.rejected["reply_draft"]
    waived = ReplyFacts(actions=frozenset({"waive_late_fee"}), amounts=FACTS.amounts)
    passed = asyncio.run(check(draft, brief(waived), set(), None))
    assert passed.reply == draft.reply_draft


OFFLINE = Card(
    type="reply_draft",
    id="reply_draft",
    data={"text": "Margaret, $103.08 is past due.", "citations": ["a#1"], "source": "offline"},
)


def test_the_models_draft_overlays_the_offline_one() -> None:
    notes = LlmNotes(status="ok", reply="Written by the model.", prompt="cards.v1")
    (card,) = overlay.apply([OFFLINE], notes)
    shown = data(card, cm.ReplyDraftData)
    assert shown.source == "llm" and shown.text == "Written by the model."


def test_a_refused_model_draft_leaves_the_offline_one_saying_why() -> None:
    notes = LlmNotes(status="ok", rejected={"reply_draft": "reply contains card data"})
    (card,) = overlay.apply([OFFLINE], notes)
    shown = data(card, cm.ReplyDraftData)
    assert shown.source == "offline" and shown.text == OFFLINE.data["text"]
    assert shown.llm is not None and shown.llm.status == "rejected"
    assert "card data" in (shown.llm.reason or "")
