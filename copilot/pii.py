"""PII redaction: runs on every utterance before it is logged, stored or sent to any model."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

Kind = Literal["card", "national_id", "bank_account", "secret", "email", "phone"]

# Not inside a decimal number: a score like -0.129287065029208 can pass the Luhn check.
_CARD = re.compile(r"(?<![\w.-])(?:\d[ -]?){12,18}\d(?![\w-]|\.\d)")
_SSN = re.compile(r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)")
_SSN_CONTEXT = re.compile(
    r"(?i)\b(?:ssn|social(?: security)?(?: number| no\.?)?|national id(?: number)?|tax id)\b"
    r"[^0-9]{0,20}"
    r"(\d{3}[ -]?\d{2}[ -]?\d{4})(?!\d)"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b")
_BANK_CONTEXT = re.compile(
    r"(?i)\b(?:bank account|checking account|savings account|routing(?: number)?|"
    r"account no\.?|acct)\b[^0-9]{0,25}(\d[\d -]{6,20}\d)"
)
# Words that describe a password rather than being one: "the password is separate from ...".
_PROSE = (
    r"(?i:not|the|a|an|any|your|my|our|their|this|that|separate|required|wrong|incorrect|"
    r"correct|invalid|case|different|same|too|still|now|being|needed|optional|mandatory|locked|"
    r"reset|changed|set|sent|expired|stored|encrypted|never|always|only|also|used|shared|valid|"
    r"weak|strong|missing|empty|blank|forgotten|lost|new|old|temporary|at|in|on|for|from|of)"
)
_SAYS = r"(?:\s+(?:is|was|=|:)|\s*[:=]|\s+it'?s\b|\s+should be)\s*"
# Passwords: "is X", ": X", a quoted phrase, or right after the word a token holding a digit
# ("password Hunter2024"), so "password reset" stays as it is.
_SECRET = re.compile(
    r"(?i)\b(?:password|passcode|pass code|pw)"
    # A password may hold punctuation ("Hunter2!x"); only what ends the sentence is left out.
    r"(?:" + _SAYS + r"(?:\"([^\"\n]{1,64})\"|'([^'\n]{1,64})'"
    r"|(?!" + _PROSE + r"\b)([^\s\"']{3,64}?)(?=[.,;!?]*(?:\s|$|[\"'\\])))"
    r"|\s+(?=[^\s\"',.;!?]*\d)([^\s\"',.;!?]{3,64}))"
)
# Codes are digits: PIN, CVV, one-time codes. "PIN: step 2" or "pin reset" are not codes.
_CODE = re.compile(
    r"(?i)\b(?:pin(?: code| number)?|security code|cvv|cvc|otp"
    r"|(?:verification|one[- ]time|sms|text) code)"
    r"(?:" + _SAYS + r"|\s+)[\"']?(\d[\d -]{1,10}\d)(?!\d)"
)
_EMAIL = re.compile(r"\b[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,24}\b")
_PHONE = re.compile(
    r"(?<!\w)(?<!\d\.)(?:\+?1[ .-]?)?\(?\d{3}\)?[ .-]?\d{3}[ .-]?\d{4}(?![\w]|\.\d)"
)


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


class Finding(BaseModel):
    model_config = ConfigDict(frozen=True)

    kind: Kind
    start: int
    end: int
    masked: str
    last4: str | None = None


class Redaction(BaseModel):
    text: str
    findings: list[Finding]

    @property
    def changed(self) -> bool:
        return bool(self.findings)


class RedactionPolicy(BaseModel):
    """Cards, national ids, bank accounts and secrets are always masked; contacts by policy."""

    mask_emails: bool = False
    mask_phones: bool = False


def _spans(text: str, policy: RedactionPolicy) -> list[Finding]:
    found: list[Finding] = []
    for m in _CARD.finditer(text):
        digits = re.sub(r"\D", "", m.group())
        if 13 <= len(digits) <= 19 and luhn_ok(digits):
            found.append(
                Finding(
                    kind="card",
                    start=m.start(),
                    end=m.end(),
                    masked=f"[card ending {digits[-4:]}]",
                    last4=digits[-4:],
                )
            )
    for m in _SSN.finditer(text):
        found.append(
            Finding(kind="national_id", start=m.start(), end=m.end(), masked="[national id]")
        )
    for m in _SSN_CONTEXT.finditer(text):
        found.append(
            Finding(kind="national_id", start=m.start(1), end=m.end(1), masked="[national id]")
        )
    for m in _IBAN.finditer(text):
        found.append(
            Finding(kind="bank_account", start=m.start(), end=m.end(), masked="[bank account]")
        )
    for m in _BANK_CONTEXT.finditer(text):
        found.append(
            Finding(kind="bank_account", start=m.start(1), end=m.end(1), masked="[bank account]")
        )
    for m in _SECRET.finditer(text):
        group = next(g for g in range(1, 5) if m.group(g) is not None)
        found.append(
            Finding(kind="secret", start=m.start(group), end=m.end(group), masked="[secret]")
        )
    for m in _CODE.finditer(text):
        found.append(Finding(kind="secret", start=m.start(1), end=m.end(1), masked="[secret]"))
    if policy.mask_emails:
        for m in _EMAIL.finditer(text):
            found.append(Finding(kind="email", start=m.start(), end=m.end(), masked="[email]"))
    if policy.mask_phones:
        for m in _PHONE.finditer(text):
            last4 = re.sub(r"\D", "", m.group())[-4:]
            found.append(
                Finding(
                    kind="phone",
                    start=m.start(),
                    end=m.end(),
                    masked=f"[phone ending {last4}]",
                    last4=last4,
                )
            )
    return found


def redact(text: str, policy: RedactionPolicy | None = None) -> Redaction:
    """Mask every finding; overlapping findings keep the earliest, longest one."""
    found = sorted(_spans(text, policy or RedactionPolicy()), key=lambda f: (f.start, -f.end))
    kept: list[Finding] = []
    for finding in found:
        if kept and finding.start < kept[-1].end:
            continue
        kept.append(finding)
    out = []
    cursor = 0
    for finding in kept:
        out.append(text[cursor : finding.start])
        out.append(finding.masked)
        cursor = finding.end
    out.append(text[cursor:])
    return Redaction(text="".join(out), findings=kept)


# A line that asks for a code, and a reply that is nothing but one: "It's 402931" after "type the
# code we texted you" is the code, though no word in the reply says so.
_ASKS_CODE = re.compile(r"(?i)\b(?:code|pin|passcode|one[- ]time password|otp|security number)\b")
_BARE_CODE = re.compile(
    r"(?i)^\W*(?:(?:it'?s|it is|my (?:code|pin) is|the code is|code|pin)\W*)?(\d[\d -]{2,10}\d)\W*$"
)


def redact_reply(prompt: str | None, text: str) -> str | None:
    """The reply with a bare code masked, when the line before asked for one; else None."""
    if not prompt or not _ASKS_CODE.search(prompt):
        return None
    match = _BARE_CODE.match(text)
    if match is None or not 4 <= len(re.sub(r"\D", "", match.group(1))) <= 8:
        return None
    return text[: match.start(1)] + "[secret]" + text[match.end(1) :]


# What redact() puts in ("[secret]", "[card ending 1111]"): finding one again is not a leak.
MASK = re.compile(r"\[[a-z ]+(?: ending \d{4})?\]")


def unmasked(text: str, policy: RedactionPolicy | None = None) -> list[Finding]:
    """The PII still in text, leaving out the masks the pipeline already put there."""
    return [f for f in redact(text, policy).findings if not MASK.fullmatch(text[f.start : f.end])]
