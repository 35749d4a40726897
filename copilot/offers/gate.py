"""When an offer may be made: a happy customer, a solved issue, one offer at a time, no repeats."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from copilot.offers.eligibility import OfferMatch, rank

OfferStatus = Literal["shown", "accepted", "dismissed"]
ANSWERS: tuple[OfferStatus, ...] = ("accepted", "dismissed")


class OfferEvent(BaseModel):
    """One thing that happened to an offer in a session."""

    model_config = ConfigDict(frozen=True)

    offer_id: str
    status: OfferStatus
    event_id: str = Field(description="the session event that caused it")
    at: datetime


class OfferHistory(BaseModel):
    """A session's offer events in the order they happened; one per (offer, status)."""

    session_id: str
    events: list[OfferEvent] = Field(default_factory=list)

    def record(self, offer_id: str, status: OfferStatus, event_id: str, at: datetime) -> bool:
        """Add an event; False (and nothing changes) when this offer already had this status."""
        if any(e.offer_id == offer_id and e.status == status for e in self.events):
            return False
        self.events.append(OfferEvent(offer_id=offer_id, status=status, event_id=event_id, at=at))
        return True

    def answered(self) -> dict[str, OfferStatus]:
        """Offers the customer accepted or dismissed, with the latest answer."""
        return {e.offer_id: e.status for e in self.events if e.status in ANSWERS}

    def pending(self) -> str | None:
        """The offer on screen that the customer has not answered yet, if any."""
        answered = self.answered()
        shown = [e.offer_id for e in self.events if e.status == "shown"]
        waiting = [o for o in shown if o not in answered]
        return waiting[-1] if waiting else None


class OfferDecision(BaseModel):
    """The offer to show now, or why none is shown."""

    offer: OfferMatch | None = None
    held_back: str | None = Field(None, description="why no offer, for the card to say")
    already_shown: bool = Field(False, description="the offer is the one already on screen")


def choose(
    matches: Sequence[OfferMatch],
    *,
    mood_label: str | None,
    issue_resolved: bool,
    history: OfferHistory,
) -> OfferDecision:
    """Gate the eligible offers: never to an unhappy customer or before the issue is solved."""
    if mood_label == "negative":
        return OfferDecision(held_back="customer mood is negative")
    if not issue_resolved:
        return OfferDecision(held_back="issue still open")
    ranked = sorted(matches, key=rank)
    pending = history.pending()
    if pending is not None:
        # At most one offer at a time: the one on screen stays until it is answered.
        same = next((m for m in ranked if m.offer_id == pending), None)
        if same is not None:
            return OfferDecision(offer=same, already_shown=True)
        return OfferDecision(held_back=f"offer {pending} is still waiting for an answer")
    answered = history.answered()
    fresh = [m for m in ranked if m.offer_id not in answered]
    if fresh:
        return OfferDecision(offer=fresh[0])
    if ranked:
        done = ", ".join(f"{m.offer_id} {answered[m.offer_id]}" for m in ranked)
        return OfferDecision(held_back=f"already answered this session: {done}")
    return OfferDecision(held_back="no offer fits this customer's data")
