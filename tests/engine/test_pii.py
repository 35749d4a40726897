"""PII redaction on realistic customer messages, including what must stay readable."""

from __future__ import annotations

import pytest

from copilot.pii import RedactionPolicy, luhn_ok, redact, redact_reply, unmasked

MASKED = [
    ("my card is 4111 1111 1111 1111 exp 09/27", "[card ending 1111]", "4111"),
    ("card number 5500-0000-0000-0004 please", "[card ending 0004]", "5500"),
    ("use 378282246310005 instead", "[card ending 0005]", "378282"),
    ("my social is 123-45-6789", "[national id]", "123-45-6789"),
    ("SSN: 123 45 6789", "[national id]", "45 6789"),
    ("my checking account number is 000123456789", "[bank account]", "000123456789"),
    ("routing 021000021 and acct 987654321012", "[bank account]", "987654321012"),
    ("IBAN DE89 3704 0044 0532 0130 00", "[bank account]", "3704 0044"),
    ("my password is Hunter2!x", "[secret]", "Hunter2"),
    ("the PIN is 4821", "[secret]", "4821"),
    ("pin: 9034 and my passcode=abc123", "[secret]", "9034"),
    ("my social is 123 45 6789", "[national id]", "45 6789"),
    ("social: 123456789", "[national id]", "123456789"),
    ("password Hunter2024", "[secret]", "Hunter2024"),
    ("my pw is hunter2", "[secret]", "hunter2"),
    ('my password is "open sesame"', "[secret]", "sesame"),
    ("cvv 123 on the back", "[secret]", "123"),
    ("the verification code is 402931", "[secret]", "402931"),
    ("my password is Hunter2!x.", "password is [secret].", "!x"),
    ("my password is sunshine", "password is [secret]", "sunshine"),
]


@pytest.mark.parametrize(("text", "mask", "gone"), MASKED)
def test_sensitive_values_are_masked(text: str, mask: str, gone: str) -> None:
    result = redact(text)
    assert mask in result.text
    assert gone not in result.text
    assert result.changed


KEPT = [
    "my order S900000201 was 97.64 on Nov 10",
    "account BA9000 0001 has a balance of $118.08",
    "I paid $1,250.00 last month and 45.00 the month before",
    "the card ending in 7319 was charged",
    "order W123456789 shipped, tracking 1Z000000000202",
    "call me at (415) 555-0101 or margaret.chen@example.net",
    "I was born in 1985 and moved here in 2019",
    "a 4111 1111 1111 1112 fails the Luhn check",
    '"polarity": -0.129287065029208, "risk": 0.4155550101',  # scores, not cards or phones
    "my pin reset did not work, send a password reset link",
    "the promo code SAVE10 was rejected",
    "Reset the account PIN: step 2 of 4; use the PIN itself to verify",
    "The voicemail password is separate from the account PIN; a password is required",
]


@pytest.mark.parametrize("text", KEPT)
def test_identifiers_and_amounts_stay_readable(text: str) -> None:
    assert redact(text).text == text


def test_contact_details_masked_when_policy_says() -> None:
    policy = RedactionPolicy(mask_emails=True, mask_phones=True)
    result = redact("call me at (415) 555-0101 or margaret.chen@example.net", policy)
    assert result.text == "call me at [phone ending 0101] or [email]"
    assert {f.kind for f in result.findings} == {"phone", "email"}


def test_card_last_four_survives_for_identity() -> None:
    result = redact("it was my visa 4111111111111111")
    [finding] = result.findings
    assert finding.kind == "card" and finding.last4 == "1111"


def test_luhn() -> None:
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")


def test_masks_already_in_the_text_are_not_found_again() -> None:
    raw = "card 4111 1111 1111 1111, password is hunter22, ssn 123-45-6789"
    assert {f.kind for f in unmasked(raw)} >= {"card", "secret"}
    assert unmasked(redact(raw).text) == []


@pytest.mark.parametrize(
    ("prompt", "reply", "expected"),
    [
        ("I've sent a code to your phone, please type it here.", "402931", "[secret]"),
        ("Please read me the PIN on your account.", "It's 4821", "It's [secret]"),
        ("What's the one-time password we emailed?", "  8812 3309 ", "  [secret] "),
        ("What is your order number?", "402931", None),  # not a code prompt
        ("Type the code we texted", "I never got a code, my number is 4155550101", None),
        ("Type the PIN", "12", None),  # too short to be a code
        (None, "402931", None),
    ],
)
def test_a_bare_reply_to_a_code_prompt_is_masked(
    prompt: str | None, reply: str, expected: str | None
) -> None:
    assert redact_reply(prompt, reply) == expected
