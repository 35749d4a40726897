"""The model proposes, policy disposes: every piece of a draft is checked before the panel sees it.

A rejected piece falls back to the offline card and the card says why; the rest still lands.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field

from copilot.actions import USES_TO_KIND, inputs_of, request_of
from copilot.llm.brief import FINISHED, Brief
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


_KIND_WORD = re.compile(r"^(?:passage|offer|step)(?:\s*id)?[\s_:-]*", re.IGNORECASE)


def _key(text: str) -> str:
    bare = _KIND_WORD.sub("", text.strip().strip("[]()'\"` ").lower())
    return re.sub(r"[^a-z0-9#]", "", bare)


def meant(given: str, known: Iterable[str]) -> str | None:
    """The known id a model wrote: itself, or the one id it equals once case, separators and a
    leading "passage", "offer" or "step" are set aside (small models write "passage_x#2" for
    "x#2", "offer_unlimited_upgrade" for "unlimited-upgrade"); None when none or several."""
    ids = list(known)
    if given in ids:
        return given
    key = _key(given)
    found = [k for k in ids if _key(k) == key]
    return found[0] if len(found) == 1 else None


def _citations(cited: list[str], known: set[str]) -> tuple[list[str], str | None]:
    resolved = [meant(c, known) for c in cited]
    bad = [c for c, r in zip(cited, resolved, strict=True) if r is None]
    if bad:
        return [], f"cites {', '.join(bad)}, which no retrieved passage has"
    return list(dict.fromkeys(r for r in resolved if r is not None)), None


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
        given = draft.next_action.step_id
        step = meant(given, brief.step_ids) or given
        status = brief.step_ids.get(step)
        problem = leaks(draft.next_action.rationale, brief)
        if status is None:
            out.rejected["next_best_action"] = f"step {step!r} is not in the playbook"
        elif status in FINISHED:
            out.rejected["next_best_action"] = f"step {step!r} is already {status}"
        elif problem:
            out.rejected["next_best_action"] = f"rationale {problem}"
        else:
            out.rationale = (step, draft.next_action.rationale.strip())
    if draft.offer is not None:
        allowed = brief.offer[0] if brief.offer else None
        problem = leaks(draft.offer.pitch, brief)
        if allowed is None or meant(draft.offer.offer_id, [allowed]) is None:
            out.rejected["offer"] = (
                f"offer {draft.offer.offer_id!r} is not allowed now ({brief.offer_gate})"
                if allowed is None
                else f"offer {draft.offer.offer_id!r} is not the eligible offer {allowed!r}"
            )
        elif problem:
            out.rejected["offer"] = f"pitch {problem}"
        else:
            out.pitch = (allowed, draft.offer.pitch.strip())
    for proposed in draft.actions:
        # The engine's own inputs for this kind (the account the step is about, the secure form's
        # token) stand over the model's, which may leave them out or make a token up.
        # Inputs the kind does not take ("description", "line") are dropped, not refused over.
        filled = {
            k: v
            for k, v in {**proposed.arguments, **brief.prepared.get(proposed.kind, {})}.items()
            if k in inputs_of(proposed.kind)
        }
        action = proposed.model_copy(update={"arguments": filled})
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
    if action.kind in brief.waiting:
        waits = ", ".join(brief.waiting[action.kind])
        return f"{action.kind} cannot run as proposed: it waits for {waits}"
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
