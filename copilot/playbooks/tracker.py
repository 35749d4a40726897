"""Where a conversation stands in its playbook, and the step to suggest next with its reason."""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Literal

from pydantic import BaseModel, Field

from copilot.playbooks.model import FACT_SYSTEMS, GATES, Condition, Playbook, Step


@dataclass
class Facts:
    """What a playbook's conditions read; the engine folds it from a session's state."""

    identity: str | None = None
    verified: bool = False
    account_pulled: bool = False
    actions: dict[str, str] = field(default_factory=dict)  # action -> event id
    agent_turns: list[tuple[str, str]] = field(default_factory=list)  # (event id, text)
    # The human agent's turns alone, where known: a bot's "anything else?" before the handover
    # must not close the conversation the agent is about to take over.
    human_turns: list[tuple[str, str]] | None = None
    customer_turns: list[tuple[str, str]] = field(default_factory=list)
    view_facts: dict[str, str] = field(default_factory=dict)  # fact -> the data, in words
    unavailable: set[str] = field(default_factory=set)  # systems that did not answer
    identity_events: list[str] = field(default_factory=list)
    # The facts that held when the playbook opened: a step they called for stays in the count
    # after its fact clears, and the playbook is resolved only once they read as gone.
    opened: dict[str, str] = field(default_factory=dict)
    pending: list[str] = field(default_factory=list)  # write actions waiting for an approval


class StepState(BaseModel):
    id: str
    title: str
    status: Literal["done", "next", "open", "not_needed"]
    evidence: list[str] = Field(default_factory=list, description="event ids that completed it")


class Progress(BaseModel):
    intent: str
    title: str
    steps: list[StepState]
    next: Step | None = Field(description="None when every step that applies is done")
    blocked_by: list[str] = Field(default_factory=list, description="unmet preconditions")
    reason: str
    complete: bool
    resolved: bool = Field(
        description="every step that applies (closing aside) done on evidence, nothing waiting "
        "for approval, and the facts that opened the playbook read as gone"
    )
    done: int = Field(0, description="steps done, of `needed`")
    needed: int = Field(0, description="steps that apply to this conversation")
    unresolved: list[str] = Field(
        default_factory=list, description="why the conversation is not resolved yet, in words"
    )
    events: list[str] = Field(default_factory=list, description="events the progress rests on")

    @property
    def count(self) -> str:
        """The one step count every card shows."""
        return f"{self.done} of {self.needed} steps done"


@lru_cache(maxsize=512)
def _rx(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern, re.IGNORECASE)


def _said(patterns: list[str], turns: list[tuple[str, str]]) -> list[str]:
    for event_id, text in reversed(turns):
        if any(_rx(p).search(text) for p in patterns):
            return [event_id]
    return []


def holds(cond: Condition, facts: Facts, done: dict[str, list[str]]) -> list[str] | None:
    """The evidence (event ids, maybe none) when every set field holds; None otherwise."""
    evidence: list[str] = []
    if cond.identity is not None:
        if facts.identity != cond.identity:
            return None
        evidence += facts.identity_events[-1:]
    if cond.verified is not None and facts.verified != cond.verified:
        return None
    if cond.account_pulled is not None and facts.account_pulled != cond.account_pulled:
        return None
    if cond.action is not None:
        if cond.action not in facts.actions:
            return None
        evidence.append(facts.actions[cond.action])
    for patterns, turns in (
        (cond.agent_said, facts.agent_turns),
        (cond.customer_said, facts.customer_turns),
    ):
        if patterns is not None:
            found = _said(patterns, turns)
            if not found:
                return None
            evidence += found
    if cond.fact is not None and cond.fact not in facts.view_facts:
        return None
    if cond.step is not None:
        if cond.step not in done:
            return None
        evidence += done[cond.step]
    return evidence


def _unknown(cond: Condition, facts: Facts) -> bool:
    """A step that hinges on a fact from a system that is down stays in: better asked than lost."""
    return cond.fact is not None and FACT_SYSTEMS[cond.fact] in facts.unavailable


def _gate(name: str, facts: Facts) -> bool:
    if name == "identity_verified":
        return facts.verified  # a match identifies; only a verification verifies
    return facts.account_pulled


def _unresolved(playbook: Playbook, facts: Facts, open_steps: list[Step]) -> list[str]:
    why = [f"step '{s.title}' not done" for s in open_steps if not s.closing]
    if facts.pending:
        why.append(f"{len(facts.pending)} action(s) waiting for approval")
    for fact in playbook.clears:
        if fact not in facts.opened:
            continue
        if FACT_SYSTEMS[fact] in facts.unavailable:
            why.append(
                f"{FACT_SYSTEMS[fact]} is unavailable: cannot confirm {fact.replace('_', ' ')}"
            )
        elif fact in facts.view_facts:
            why.append(f"still {facts.view_facts[fact]}")
    return why


def track(playbook: Playbook, facts: Facts) -> Progress:
    """Mark each step done, not needed, next or open; suggest the first applicable open step."""
    done: dict[str, list[str]] = {}
    applies: dict[str, bool] = {}
    # A step that a fact called for when the playbook opened still counts once the fact clears.
    opening = replace(facts, view_facts={**facts.opened, **facts.view_facts})
    for _ in range(2):  # a second pass settles steps whose conditions name later steps
        for step in playbook.steps:
            applies[step.id] = (
                step.when is None
                or holds(step.when, opening, done) is not None
                or _unknown(step.when, facts)
            )
            seen = facts
            if step.closing and facts.human_turns is not None:
                seen = replace(facts, agent_turns=facts.human_turns)
            for cond in step.done_when:
                got = holds(cond, seen, done)
                if got is not None:
                    done[step.id] = got
                    break
    nxt = next((s for s in playbook.steps if applies[s.id] and s.id not in done), None)
    states = [
        StepState(
            id=s.id,
            title=s.title,
            status=(
                "done"
                if s.id in done
                else "next"
                if s is nxt
                else "open"
                if applies[s.id]
                else "not_needed"
            ),
            evidence=done.get(s.id, []),
        )
        for s in playbook.steps
    ]
    needed = [s for s in playbook.steps if applies[s.id]]
    finished = sum(1 for s in needed if s.id in done)
    unresolved = _unresolved(playbook, facts, [s for s in needed if s.id not in done])
    blocked: list[str] = []
    if nxt is None:
        reason = f"{playbook.title}: all {len(needed)} steps done"
        if unresolved:
            reason += "; not resolved: " + "; ".join(unresolved)
    else:
        blocked = [
            GATES.get(r, f"step '{r}'")
            for r in nxt.requires
            if (r in GATES and not _gate(r, facts)) or (r not in GATES and r not in done)
        ]
        reason = f"{playbook.title}: {finished} of {len(needed)} steps done"
        if nxt.when is not None and nxt.when.fact is not None:
            fact = nxt.when.fact
            if fact in facts.view_facts:
                reason += "; " + facts.view_facts[fact]
            elif FACT_SYSTEMS[fact] in facts.unavailable:
                reason += (
                    f"; {FACT_SYSTEMS[fact]} is unavailable: check {fact.replace('_', ' ')} by hand"
                )
            elif fact in facts.opened:
                reason += f"; when this started: {facts.opened[fact]}"
        if blocked:
            reason += f"; first {' and '.join(blocked)}"
    events = sorted({e for ids in done.values() for e in ids})
    return Progress(
        intent=playbook.intent,
        title=playbook.title,
        steps=states,
        next=nxt,
        blocked_by=blocked,
        reason=reason,
        complete=nxt is None,
        resolved=not unresolved,
        done=finished,
        needed=len(needed),
        unresolved=unresolved,
        events=events,
    )
