"""The model proposes, policy disposes: every piece of a draft is checked before the panel sees it.

A rejected piece falls back to the offline card and the card says why; the rest still lands.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from copilot.actions import USES_TO_KIND, request_of
from copilot.llm.brief import Brief
from copilot.llm.drafts import ActionDraft, AnswerDraft, PanelDraft
from copilot.reply_policy import leaks as shared_leaks
from copilot.reply_policy import reply_problem
from tools.errors import InvalidInput

ACTION_USES = {kind: uses for uses, kind in USES_TO_KIND.items()}
Owner = Callable[[ActionDraft], Awaitable[str | None]]


@dataclass
class Verdict:
    """What passed, and for each card that did not, why."""

    summary: str | None = None
    rationale: tuple[str, str] | None = None
    reply: str | None = None
    pitch: tuple[str, str] | None = None
    citations: list[str] = field(default_factory=list)
    actions: list[ActionDraft] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)


def leaks(text: str, brief: Brief) -> str | None:
    """Why a text must not reach the panel, or None: PII, or another customer's identifiers."""
    return shared_leaks(text, brief.accounts, brief.orders)


def _citations(cited: list[str], known: set[str]) -> tuple[list[str], str | None]:
    bad = [c for c in cited if c not in known]
    if bad:
        return [], f"cites {', '.join(bad)}, which no retrieved passage has"
    return list(dict.fromkeys(cited)), None


async def check(
    draft: PanelDraft, brief: Brief, passages: set[str], owner: Owner | None
) -> Verdict:
    """Check each piece of a panel draft on its own."""
    out = Verdict()
    known = {p[0] for p in brief.passages} | passages
    out.citations, why = _citations(draft.citations, known)
    if why:
        out.rejected["knowledge"] = why
    problem = leaks(draft.summary, brief)
    if problem:
        out.rejected["summary"] = f"summary {problem}"
    elif draft.summary.strip():
        out.summary = draft.summary.strip()
    if draft.reply_draft.strip():
        # The one check every reply draft passes, the engine's own included.
        problem = reply_problem(draft.reply_draft, brief.reply) or (why and f"reply {why}")
        if problem:
            out.rejected["reply_draft"] = f"reply {problem}"
        else:
            out.reply = draft.reply_draft.strip()
    if draft.next_action is not None:
        step = draft.next_action.step_id
        status = brief.step_ids.get(step)
        problem = leaks(draft.next_action.rationale, brief)
        if status is None:
            out.rejected["next_best_action"] = f"step {step!r} is not in the playbook"
        elif status in ("done", "not_needed"):
            out.rejected["next_best_action"] = f"step {step!r} is already {status}"
        elif problem:
            out.rejected["next_best_action"] = f"rationale {problem}"
        else:
            out.rationale = (step, draft.next_action.rationale.strip())
    if draft.offer is not None:
        allowed = brief.offer[0] if brief.offer else None
        problem = leaks(draft.offer.pitch, brief)
        if draft.offer.offer_id != allowed:
            out.rejected["offer"] = (
                f"offer {draft.offer.offer_id!r} is not allowed now ({brief.offer_gate})"
                if allowed is None
                else f"offer {draft.offer.offer_id!r} is not the eligible offer {allowed!r}"
            )
        elif problem:
            out.rejected["offer"] = f"pitch {problem}"
        else:
            out.pitch = (allowed, draft.offer.pitch.strip())
    for action in draft.actions:
        problem = await _action_problem(action, brief, owner)
        if problem:
            out.rejected["action"] = problem
        else:
            out.actions.append(action)
    return out


async def _action_problem(action: ActionDraft, brief: Brief, owner: Owner | None) -> str | None:
    uses = ACTION_USES[action.kind]
    if uses not in brief.open_uses:
        return f"{action.kind} serves no open step of this playbook"
    if owner is None or brief.customer_id is None:
        return f"{action.kind}: no system can perform write actions here"
    try:  # arguments the action cannot take say so, not that the target is someone else's
        request_of(action.kind, dict(action.arguments))
    except InvalidInput as exc:
        return f"{action.kind} cannot run as proposed ({exc.message})"
    who = await owner(action)
    if who != brief.customer_id:
        return f"{action.kind}: its target is not this customer's"
    return None


def check_answer(draft: AnswerDraft, brief: Brief, passages: set[str]) -> tuple[str | None, str]:
    """The answer text, or None and why it was refused."""
    known = {p[0] for p in brief.passages} | passages
    _, why = _citations(draft.citations, known)
    if why:
        return None, why
    problem = leaks(draft.answer, brief)
    if problem:
        return None, f"answer {problem}"
    return draft.answer.strip(), ""
