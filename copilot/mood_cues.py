"""Escalation cues in a customer utterance: regexes and small lexicons, each with its evidence."""

from __future__ import annotations

import html
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict

CueKind = Literal[
    "frustration",
    "anger",
    "confusion",
    "urgency",
    "all_caps",
    "repeat_myself",
    "supervisor",
    "cancel",
    "competitor",
    "complaint",
]

# How much each cue alone adds to escalation risk (combined as independent evidence, so two
# cues never exceed 1). Explicit threats to leave or go over the agent's head weigh most.
CUE_WEIGHTS: dict[CueKind, float] = {
    "supervisor": 0.45,
    "competitor": 0.45,
    "cancel": 0.35,
    "complaint": 0.35,
    "anger": 0.30,
    "repeat_myself": 0.25,
    "all_caps": 0.20,
    "frustration": 0.15,
    "urgency": 0.10,
    "confusion": 0.05,
}

# Rivals a Brightwave customer may threaten to leave for; "Zephyr" is the demo world's rival.
COMPETITORS: tuple[str, ...] = ("zephyr mobile", "zephyr")
_RIVALS = "|".join(re.escape(c) for c in COMPETITORS)

# Upper-case words that are names, not shouting.
ACRONYMS: frozenset[str] = frozenset(
    (
        "SIM",
        "PIN",
        "PUK",
        "ID",
        "USA",
        "UK",
        "EU",
        "ETA",
        "DM",
        "SMS",
        "MMS",
        "LTE",
        "GB",
        "MB",
        "TB",
        "IMEI",
        "ESIM",
        "FAQ",
        "OK",
        "TV",
        "ATM",
        "VIP",
        "CEO",
        "APN",
        "VPN",
        "USB",
        "PDF",
        "URL",
        "SSN",
        "DOB",
        "HR",
        "EST",
        "PST",
        "CST",
        "UTC",
        "NYC",
        "FYI",
        "BTW",
        "LOL",
        "OMG",
        "IOS",
        "GPS",
        "WIFI",
        "ISP",
        "TSA",
        "JFK",
        "LAX",
        "SFO",
        "ASAP",
        "TBD",
    )
)

_MENTION = re.compile(r"(?<![\w.])@\w+")
_URL = re.compile(r"https?://\S+|www\.\S+")
_CAPS_WORD = re.compile(r"\b[A-Z][A-Z']*[A-Z]\b")


def normalize_text(text: str) -> str:
    """Unescape HTML, drop @handles and links (a social post's address is not its mood)."""
    text = _URL.sub(" ", _MENTION.sub(" ", html.unescape(text)))
    return " ".join(text.split())


def _rx(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p, re.IGNORECASE) for p in patterns]


_SERVICE = r"(?:service|account|contract|plan|subscription|lines?|everything|internet|membership)"
_PATTERNS: dict[CueKind, list[re.Pattern[str]]] = {
    "repeat_myself": _rx(
        r"\b(?:have|had|need|got)\s+to\s+(?:keep\s+)?(?:repeat|explain)(?:ing)?\s+"
        r"(?:myself|this|it|everything)\b",
        r"\brepeat(?:ing)?\s+myself\b",
        r"\b(?:second|third|fourth|fifth|sixth|2nd|3rd|[4-9]th|\d{2}th)\s+(?:time|call)\b",
        r"\b(?:again\s+and\s+again|over\s+and\s+over)\b",
        r"\balready\s+(?:told|explained|gave|said|tried|called|sent|asked)\b",
        r"\b(?:called|asked|explained|told\s+you|emailed|tweeted)\b[^.!?]{0,30}"
        r"\b(?:twice|three\s+times|four\s+times|\d+\s+times|several\s+times|many\s+times)\b",
        # "again" closing a sentence is the repeat-myself sigh ("dropped again."), unless the
        # customer asks the agent to say something again or thanks them again.
        r"(?<!say that )(?<!repeat that )(?<!say it )(?<!thanks )(?<!thank you )(?<!thx )"
        r"\b(?:yet\s+)?again\b(?=\s*(?:[.!?,]|$))",
    ),
    "supervisor": _rx(
        r"\bsupervisor\b",
        r"(?<!account )(?<!store )(?<!line )(?<!general )\bmanager\b",
        r"\b(?:someone|somebody|anyone)\s+(?:higher\s+up|senior|in\s+charge|above\s+you)\b",
        r"\bescalat(?:e|ed|ion|ing)\b",
        r"\b(?:talk|speak)\s+to\s+(?:a|your|the)\s+(?:boss|human|real\s+person)\b",
    ),
    "cancel": _rx(
        rf"\b(?:cancel+(?:ing)?|terminat(?:e|ing)|clos(?:e|ing)|end(?:ing)?)\s+(?:my|our|the|this)?"
        rf"\s*{_SERVICE}\b",
        r"\b(?:i'?m|i\s+am|i\s+will|i'?ll|gonna|going\s+to|want\s+to|wanna|ready\s+to)\s+"
        r"(?:cancel|quit|leave)\b(?!\s+(?:the|my|this)\s+(?:order|appointment|booking|"
        r"reservation|add-?on|insurance|request))",
        r"\bcancel\s+everything\b",
        r"\b(?:i'?m|i\s+am)\s+out\b(?!\s+(?:of|for|at|in|on|today|now|there|here)\b)",
    ),
    "competitor": _rx(
        # A rival's name counts with a move towards it ("switching to Zephyr") or its pull
        # ("Zephyr has a better deal"); "my bill says Zephyr, wrong company" is no threat.
        r"\b(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?|port(?:ing)?|leav(?:e|ing)|jump(?:ing)?|"
        r"sign(?:ing)?\s+up|join(?:ing)?)\b[^.!?]{0,30}\b(?:" + _RIVALS + r")\b",
        r"\b(?:" + _RIVALS + r")\b[^.!?]{0,40}\b(?:cheaper|better|deal|offer(?:s|ed|ing)?|"
        r"calling\s+me|gave\s+me|giving\s+me|half\s+the\s+price)\b",
        r"\b(?:switch(?:ing)?|mov(?:e|ing)|go(?:ing)?|port(?:ing)?|leav(?:e|ing)|jump(?:ing)?)"
        r"\s+(?:over\s+)?(?:to|for)\s+(?:another|a\s+different|a\s+new|other|the\s+competition)\b",
        r"\b(?:another|a\s+different|other|new)\s+(?:carrier|provider|network|company)s?\b",
        r"\bswitch(?:ing)?\s+(?:carriers|providers|networks|companies)\b",
        r"\b(?:take|taking)\s+my\s+(?:business|money)\s+elsewhere\b",
        r"\bleav(?:e|ing)\s+brightwave\b",
        r"\bport(?:ing)?\s+(?:my\s+number\s+)?out\b",
    ),
    "complaint": _rx(
        r"\b(?:file|make|lodge|raise|submit|put\s+in|open)\s+(?:a\s+)?(?:formal\s+|official\s+)?"
        r"complaint\b",
        r"\bcomplain(?:ing)?\b",
        r"\b(?:ridiculous|unacceptable|outrageous|disgrace(?:ful)?|absurd|scam|rip[- ]?off)\b",
        r"\b(?:ombudsman|consumer\s+protection|better\s+business\s+bureau|BBB|my\s+lawyer)\b",
        r"\b(?:one|1)[- ]star\s+review\b",
        r"\breport(?:ing)?\s+(?:you|this)\b",
    ),
    "anger": _rx(
        r"\b(?:furious|angry|livid|pissed(?:\s+off)?|fed\s+up|sick\s+(?:and\s+tired\s+)?of|"
        r"had\s+enough|hate|thieves|useless|incompetent|pathetic|worst|disgusting|joke)\b",
        r"\b(?:wtf|damn|hell|crap|bs)\b",
        r"[!?]*![!?]*!",
    ),
    "frustration": _rx(
        r"\bfrustrat\w*",
        r"\bannoy\w*",
        r"\btired\s+of\b",
        r"\bstill\s+(?:not|no|waiting|broken|down|nothing|haven'?t|hasn'?t|isn'?t|doesn'?t)\b",
        r"\bon\s+hold\b",
        r"\b(?:been\s+)?waiting\s+(?:for\s+)?(?:over\s+)?(?:an?\s+|\d+\s+|two\s+|three\s+)?"
        r"(?:hours?|days?|weeks?|months?)\b",
        r"\brunaround\b",
        r"\b(?:nobody|no\s+one)\s+(?:has|can|will|is|seems|helps|answers|called|told|cares)\b",
        r"\bevery\s+(?:single\s+)?time\b",
        r"\bkeeps?\s+(?:dropping|happening|failing|crashing|cutting|disconnecting|getting)\b",
        r"\bwaste(?:d)?\s+(?:of\s+)?(?:so\s+much\s+of\s+)?(?:my\s+)?time\b",
        r"\b(?:ugh|argh)\b",
        r"\bseriously\s*\?",
        r"\bgive\s+up\b",
    ),
    "confusion": _rx(
        r"\bi\s+(?:don'?t|do\s+not|still\s+don'?t)\s+(?:understand|get\s+(?:it|why|how|what))\b",
        r"\bconfus\w+",
        r"\bwhat\s+does\s+(?:this|that|it)\b[^.!?]{0,30}\bmean\b",
        r"\b(?:makes?\s+no|doesn'?t\s+make(?:\s+any)?)\s+sense\b",
        r"\bnot\s+sure\s+(?:what|why|how)\b",
        r"\bunclear\b",
        r"\bwhat\s+(?:is|are)\s+(?:this|these|all\s+these)\s+(?:charges?|fees?)\b",
    ),
    "urgency": _rx(
        r"\bright\s+(?:now|away)\b",
        r"\burgent(?:ly)?\b",
        r"\ba\.?s\.?a\.?p\b",
        r"\bimmediately\b",
        r"\bas\s+soon\s+as\s+possible\b",
        r"\bemergency\b",
        r"\bstraight\s+away\b",
        r"\btime[- ]sensitive\b",
        r"\bcan'?t\s+wait\b",
    ),
}


class Cue(BaseModel):
    """One escalation cue found in an utterance, with the words that showed it."""

    model_config = ConfigDict(frozen=True)

    kind: CueKind
    evidence: str


def _all_caps(text: str) -> str | None:
    """Shouting: two or more all-caps words that are not acronyms, or mostly upper-case text."""
    words = [m for m in _CAPS_WORD.finditer(text) if m.group(0).replace("'", "") not in ACRONYMS]
    letters = [c for c in text if c.isalpha()]
    upper = sum(c.isupper() for c in letters)
    mostly_upper = len(letters) >= 8 and upper / len(letters) >= 0.6 and len(words) >= 1
    if len(words) < 2 and not mostly_upper:
        return None
    # The evidence is the shouted stretch: from the first to the last shouted word, taking in
    # a leading "I", which the word pattern skips as too short to count as shouting.
    start = words[0].start()
    if text[max(0, start - 2) : start] == "I " and (start == 2 or not text[start - 3].isalpha()):
        start -= 2
    return text[start : words[-1].end()]


def detect_cues(text: str) -> list[Cue]:
    """Every cue kind found in text, at most one per kind, with its first matching span."""
    clean = normalize_text(text)
    cues: list[Cue] = []
    caps = _all_caps(clean)
    if caps:
        cues.append(Cue(kind="all_caps", evidence=caps))
    for kind, patterns in _PATTERNS.items():
        spans = [m for p in patterns if (m := p.search(clean))]
        if spans:
            first = min(spans, key=lambda m: m.start())
            cues.append(Cue(kind=kind, evidence=first.group(0).strip()))
    return cues


# Words that only carry details or acknowledge: "it's jane@example.com", "ok", "yes", "402931".
_FILLER_WORDS = """
    a an the and or of in on at to for with under from is it it's its im i'm i am me my mine our
    this that that's thats these those here there you go here's heres here it is its
    yes yeah yep yup ya yea yess no nope nah ok okay k kk okey sure right alright correct exactly
    mhm mm hmm uh um er ah oh so well just please pls also again too then now go ahead moment
    second sec are was were be
    email e-mail mail address phone mobile cell number no. num nr account acct order booking
    reservation ticket confirmation reference ref code pin id card ending last four digits zip
    postal postcode date birth dob name spelled spelt line case claim tracking flight seat
    one two three four five six seven eight nine zero oh double triple
    january february march april may june july august september october november december
    jan feb mar apr jun jul aug sep sept oct nov dec
    monday tuesday wednesday thursday friday saturday sunday
"""
_FILLER: frozenset[str] = frozenset(_FILLER_WORDS.split())
_DATA = re.compile(
    r"\[[^\]\n]{1,40}\]"  # a redaction placeholder: [email], [phone ending 0101]
    r"|[\w.%+'-]+@[\w-]+(?:\.[\w-]+)+"  # an email address
    r"|\S*\d\S*"  # anything with a digit: numbers, codes, dates, amounts, references
)
_WORD = re.compile(r"[a-z][a-z.'-]*")


def is_informational(text: str) -> bool:
    """True when text only gives details or acknowledges (an email, a number, "ok", "yes").

    Such a turn says nothing about how the customer feels, so it must not move their mood.
    Any other word, or any escalation cue, makes it a turn to read.
    """
    clean = normalize_text(text)
    if not clean or detect_cues(clean):
        return False
    rest = _DATA.sub(" ", clean.lower())
    words = [w.strip(".'-") for w in _WORD.findall(rest)]
    return all(w in _FILLER for w in words if w)


# Cue kinds that say in so many words that the customer is unhappy (cancel or "again" may not).
# A threat to leave for a rival is no neutral message, however calmly it is put.
NEGATIVE_KINDS: frozenset[CueKind] = frozenset(("anger", "complaint", "frustration", "competitor"))


def shows_negativity(cues: list[Cue]) -> bool:
    """A negative cue in words ("!!" alone is excitement as often as anger)."""
    return any(c.kind in NEGATIVE_KINDS and any(ch.isalpha() for ch in c.evidence) for c in cues)


def cue_risk(cues: list[Cue]) -> float:
    """Escalation risk from cues alone: independent evidence, 1 - prod(1 - weight)."""
    keep = 1.0
    for kind in {c.kind for c in cues}:
        keep *= 1.0 - CUE_WEIGHTS[kind]
    return 1.0 - keep
