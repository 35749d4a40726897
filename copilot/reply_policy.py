"""What any reply draft must pass before the agent may send it, the engine's and the model's alike.

A draft is words in the agent's mouth: it may not carry PII, another customer's numbers, money
the records and passages do not hold, or say something is done, verified or resolved before the
session has the evidence.
"""

from __future__ import annotations

import contextlib
import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from copilot.entities import extract
from copilot.pii import RedactionPolicy, redact, unmasked
from copilot.session_state import SessionState
from copilot.stages.offers import resolved

CENT = Decimal("0.01")
_MONEY = re.compile(r"\$\s?(\d{1,3}(?:,\d{3})+|\d+)(\.\d{1,2})?")
# A clause that only says what happens later ("once it's paid, ...") claims nothing yet.
_CLAUSE = re.compile(r"[.;:!?]|,\s*|\s+(?:and|but|so)\s+")
_CONDITIONAL = re.compile(r"(?i)^\W*(?:once|when|after|as soon as|if|until|before)\b")
_DONE_VERBS = (
    r"added|removed|waived|credited|updated|fixed|processed|taken|refunded|cancell?ed|changed|"
    r"set up|sent|resent|started|opened|blocked|emailed|applied|replaced|arranged|upgraded|reset|"
    r"saved|linked|turned on|switched|retried|paid|restored|reversed|issued"
)
CLAIMS: dict[str, re.Pattern[str]] = {
    "done": re.compile(
        rf"(?i)\b(?:i|we)(?:'ve| have)\s+(?:just\s+|now\s+|already\s+)?(?:{_DONE_VERBS})\b"
        rf"|\b(?:has|have)\s+(?:now\s+)?been\s+(?:{_DONE_VERBS}|done)\b"
        r"|\b(?:went|gone) through\b|\ball set\b"
        r"|\b(?:is|are)\s+(?:now\s+)?(?:done|complete|completed|sorted)\b"
    ),
    "verified": re.compile(
        r"(?i)\b(?:you(?:'re| are)|you(?:'ve| have) been|identity (?:is|has been))\s+"
        r"(?:now\s+|fully\s+)?verified\b"
    ),
    "resolved": re.compile(
        r"(?i)\b(?:is|are|has been|have been|was)\s+(?:now\s+|all\s+)?(?:resolved|fixed)\b"
    ),
}


@dataclass(frozen=True)
class ReplyFacts:
    """What a draft may rest on: the customer's own numbers, and what the session has shown."""

    accounts: frozenset[str] = frozenset()
    orders: frozenset[str] = frozenset()
    amounts: frozenset[Decimal] = frozenset()
    records: frozenset[Decimal] = frozenset()  # the amounts of the customer's own records
    actions: frozenset[str] = frozenset()  # kinds an action result or approved write did
    verified: bool = False
    resolved: bool = False
    mask_emails: bool = False  # the session's redaction policy, as hashable flags
    mask_phones: bool = False

    @property
    def policy(self) -> RedactionPolicy:
        return RedactionPolicy(mask_emails=self.mask_emails, mask_phones=self.mask_phones)


def money(value: float | Decimal) -> str:
    """The one money format of the panel: $1,234.50."""
    return f"${Decimal(str(value)).quantize(CENT):,}"


def amounts_in(text: str) -> set[Decimal]:
    """Every dollar amount the text names, in cents."""
    out = set()
    for m in _MONEY.finditer(text):
        digits = m.group(1).replace(",", "") + (m.group(2) or "")
        with contextlib.suppress(InvalidOperation):
            out.add(Decimal(digits).quantize(CENT))
    return out


def facts_of(
    state: SessionState, texts: Iterable[str] = (), policy: RedactionPolicy | None = None
) -> ReplyFacts:
    """The session's facts for a draft; texts are what the writer was shown (passages, offers)."""
    view = state.view
    amounts: set[Decimal] = set()
    accounts = view.billing.data or [] if view else []
    for a in accounts:
        amounts |= amounts_in(money(a.account.balance))
        if a.past_due:
            amounts |= amounts_in(f"{money(a.past_due.amount)} {money(a.past_due.late_fees)}")
    orders = view.orders.data if view else None
    numbers = set()
    if orders is not None:
        for order in [*orders.open_orders, *(p.order for p in orders.recent_purchases)]:
            numbers.add(order.order_number)
            amounts |= amounts_in(money(order.total))
    records = frozenset(amounts)
    for text in texts:
        amounts |= amounts_in(text)
    done = {
        str(d["action"])
        for _, d in state.actions
        if d.get("action") not in (None, "offer_response")
        and d.get("status", "done") not in ("failed", "error")
    } | {p.kind for p in state.proposals.values() if p.status == "done"}
    return ReplyFacts(
        accounts=frozenset(a.account.account_number for a in accounts),
        orders=frozenset(numbers),
        amounts=frozenset(amounts),
        records=records,
        actions=frozenset(done),
        verified=state.verification().status == "verified",
        resolved=resolved(state),
        mask_emails=bool(policy and policy.mask_emails),
        mask_phones=bool(policy and policy.mask_phones),
    )


def leaks(
    text: str, accounts: Iterable[str], orders: Iterable[str], policy: RedactionPolicy | None = None
) -> str | None:
    """Why a text must not reach the panel, or None: PII, or another customer's identifiers."""
    found = unmasked(text, policy)
    if found:
        return f"contains {found[0].kind} data"
    # The same reading of account and order numbers the pipeline uses on the customer's words.
    named = extract(text, date.today())
    own_accounts, own_orders = set(accounts), set(orders)
    for number in named.accounts:
        if number not in own_accounts:
            return f"names account {number}, which is not this customer's"
    for number in named.orders:
        if number not in own_orders:
            return f"names order {number}, which is not this customer's"
    return None


def unsupported(text: str, facts: ReplyFacts) -> str | None:
    """A claim of done, verified or resolved the session has no evidence for, in words."""
    evidence = {"done": bool(facts.actions), "verified": facts.verified, "resolved": facts.resolved}
    for clause in _CLAUSE.split(text):
        if not clause or _CONDITIONAL.match(clause):
            continue
        for kind, pattern in CLAIMS.items():
            said = pattern.search(clause)
            if said and not evidence[kind]:
                return f"says {said.group().strip()!r} before anything shows it is {kind}"
    return None


def premature(text: str, facts: ReplyFacts) -> str | None:
    """Billing or order details told before the customer is verified: the disclosure policy
    (account-what-never-to-disclose) gives them only to the verified account holder."""
    if facts.verified:
        return None
    named = extract(text, date.today())
    if set(named.accounts) & facts.accounts:
        return "tells the account number before the customer is verified"
    if set(named.orders) & facts.orders:
        return "tells order details before the customer is verified"
    if amounts_in(text) & facts.records:
        return "tells billing amounts before the customer is verified"
    return None


def stray_amount(text: str, facts: ReplyFacts) -> str | None:
    """A dollar amount neither the customer's records nor what the writer was shown hold."""
    for amount in sorted(amounts_in(text) - facts.amounts):
        return f"names {money(amount)}, which no record or passage holds"
    return None


@functools.lru_cache(maxsize=1024)
def masked(text: str, facts: ReplyFacts) -> str:
    """The text with what the session's redaction policy masks masked."""
    return redact(text, facts.policy).text


# The engine rebuilds every card on each event while a draft rarely changes: check it once.
@functools.lru_cache(maxsize=1024)
def reply_problem(text: str, facts: ReplyFacts) -> str | None:
    """Why this draft must not be offered to the agent, or None: the one check of every draft."""
    return (
        leaks(text, facts.accounts, facts.orders, facts.policy)
        or unsupported(text, facts)
        or premature(text, facts)
        or stray_amount(text, facts)
    )
