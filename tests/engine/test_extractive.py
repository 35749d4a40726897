"""The extractive summary picks the customer's problem and the agent's answer."""

from __future__ import annotations

from copilot.extractive import clean, lead, summarize

DIALOG = [
    (
        "customer",
        "@Brightwave hi. My autopay failed because my card expired and now I owe a "
        "late fee. Can you help? https://t.co/x",
    ),
    ("agent", "@123 Sorry about that! Could you DM us your account number?"),
    ("customer", "@Brightwave done, sent it."),
    ("agent", "@123 Thanks. We updated the autopay card and waived the late fee on your account."),
]


def test_problem_and_answer() -> None:
    text = summarize(DIALOG)
    assert "autopay failed because my card expired" in text
    assert "waived the late fee" in text
    assert "@" not in text and "http" not in text


def test_lead_baseline_and_cleaning() -> None:
    assert lead(DIALOG, 1) == "hi."
    assert clean("@a hello https://t.co/x there") == "hello there"
    assert summarize([]) == "" and summarize([("customer", "ok")]) == ""
