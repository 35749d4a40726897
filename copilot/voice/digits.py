"""Spoken numbers as digits, so what redaction and identity look for is found in speech too.

"four one one one, one one one one" must read "4111 1111" before the card rule sees it; so must
"4111, 1111" as a transcriber may write it (the card rule allows a space or a hyphen between
groups, not a comma).
"""

from __future__ import annotations

import re

_WORDS = {
    "zero": "0", "oh": "0", "o": "0", "one": "1", "two": "2", "three": "3", "four": "4",
    "for": "4", "five": "5", "six": "6", "seven": "7", "eight": "8", "nine": "9",
}  # fmt: skip
_REPEAT = {"double": 2, "triple": 3}
# A run of number words and digit groups, with nothing but separators between them.
_NUMBER = r"(?:\d+|double|triple|zero|oh|o|one|two|three|four|for|five|six|seven|eight|nine)"
_RUN = re.compile(rf"(?i)\b{_NUMBER}(?:[\s,.-]+{_NUMBER})+\b")
_PIECE = re.compile(r"(?i)(\d+|[a-z]+)([\s,.-]*)")
_WRITTEN = re.compile(r"\d+(?:[ -]\d+)*")
MIN_DIGITS = 4  # fewer is "one or two" or "2, 3 days": prose, not a number read out


def _digits(run: str) -> str | None:
    groups: list[str] = []
    current = ""
    repeat = 1
    words = 0
    for token, sep in _PIECE.findall(run):
        lower = token.lower()
        if lower in _REPEAT:
            repeat = _REPEAT[lower]
            continue
        if token.isdigit():
            if current:
                groups.append(current)
            groups.append(token * repeat if len(token) == 1 else token)
            current = ""
        else:
            current += _WORDS[lower] * repeat
            words += 1
            # Punctuation between number words is a pause: a new group, as a person reads it.
            if sep.strip():
                groups.append(current)
                current = ""
        repeat = 1
    if current:
        groups.append(current)
    total = sum(len(g) for g in groups)
    # "oh", "o" and "for" are words first: only in a long run of numbers are they digits.
    if total < MIN_DIGITS or (words and words < 3 and len(groups) > 1 and total < 7):
        return None
    return " ".join(groups)


def spoken_digits(text: str) -> str:
    """The text with each run of spoken or grouped digits written as digit groups."""

    def swap(match: re.Match[str]) -> str:
        run = match.group()
        # Digits written with spaces or hyphens ("971-555-0106", a date) already read right.
        if _WRITTEN.fullmatch(run):
            return run
        return _digits(run) or run

    return _RUN.sub(swap, text)
