"""What the LLM path has written for one session: the overlay the cards read, and its costs."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal


@dataclass
class Tally:
    """Tokens and cost of some model calls."""

    calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def total(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, other: Tally) -> None:
        self.calls += other.calls
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.cost_usd += other.cost_usd

    def as_dict(self) -> dict[str, float | int]:
        return {
            "calls": self.calls,
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "cost_usd": round(self.cost_usd, 6),
        }


@dataclass
class LlmNotes:
    """Accepted model output, keyed by what it is about: a stale note never lands on a new card."""

    status: Literal["idle", "ok", "partial", "fallback"] = "idle"
    reason: str | None = None
    summary: str | None = None
    covered: int = 0  # how many of the session's turns the summary already covers
    rationale: tuple[str, str] | None = None  # (step id, why now)
    reply: str | None = None
    pitch: tuple[str, str] | None = None  # (offer id, pitch)
    citations: list[str] = field(default_factory=list)
    rejected: dict[str, str] = field(default_factory=dict)  # card type -> why policy said no
    prompt: str | None = None  # name.vN of the prompt behind the notes
    model: str | None = None
    event_id: str | None = None  # the latest event the notes were written for
    asked: str | None = None  # what the last turn was about (Brief.situation): not asked twice
    turn: Tally = field(default_factory=Tally)
    conversation: Tally = field(default_factory=Tally)
