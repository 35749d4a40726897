"""Lay what the model wrote over the offline cards, only where it still fits them."""

from __future__ import annotations

from typing import Any

from copilot.llm.notes import LlmNotes
from copilot.panel import Card, Provenance

# Which card shows each policy rejection.
REJECTED_ON = {
    "summary": "summary",
    "next_best_action": "next_best_action",
    "action": "next_best_action",
    "offer": "offer",
    "knowledge": "knowledge",
    "reply_draft": "reply_draft",
}


def _with(card: Card, **data: Any) -> Card:
    return card.model_copy(update={"data": {**card.data, **data}})


def apply(cards: list[Card], notes: LlmNotes) -> list[Card]:
    """The cards with the model's prose where it applies, and why not where it does not."""
    if notes.status == "idle":
        return cards
    out: list[Card] = []
    draft: Card | None = None
    for offline in cards:
        card = offline
        if card.type == "reply_draft":
            draft = card
            continue
        llm: dict[str, Any] = {"status": notes.status, "prompt": notes.prompt}
        reason = "; ".join(v for k, v in notes.rejected.items() if REJECTED_ON.get(k) == card.type)
        if notes.status == "fallback":
            llm["reason"] = notes.reason
        elif reason:
            llm.update(status="rejected", reason=reason)
        if card.type == "summary":
            extra: dict[str, Any] = {
                "llm": llm,
                "usage": {
                    "turn": notes.turn.as_dict(),
                    "conversation": notes.conversation.as_dict(),
                },
            }
            if notes.summary:
                extra.update(
                    prose=notes.summary, prose_source="llm", offline_prose=card.data["prose"]
                )
            card = _with(card, **extra)
        elif card.type == "next_best_action":
            step = (card.data.get("next") or {}).get("step")
            if notes.rationale and notes.rationale[0] == step:
                card = _with(card, rationale=notes.rationale[1], llm=llm)
            else:
                card = _with(card, llm=llm)
        elif card.type == "offer":
            shown = (card.data.get("offer") or {}).get("offer_id")
            if notes.pitch and notes.pitch[0] == shown:
                card = _with(card, pitch=notes.pitch[1], llm=llm)
            elif notes.status == "fallback" or reason:
                card = _with(card, llm=llm)
        elif card.type == "knowledge" and (reason or notes.citations):
            card = _with(card, llm=llm, cited=notes.citations)
        out.append(card)
    out.append(_reply_card(notes, draft))
    return out


def _reply_card(notes: LlmNotes, offline: Card | None) -> Card:
    """The model's draft when policy passed it; else the offline one, saying why not the model's."""
    if notes.reply:
        return Card(
            type="reply_draft",
            id="reply_draft",
            data={
                "text": notes.reply,
                "citations": notes.citations,
                "source": "llm",
                "prompt": notes.prompt,
            },
            provenance=Provenance(
                events=[notes.event_id] if notes.event_id else [], passages=notes.citations
            ),
        )
    why = notes.rejected.get("reply_draft") or notes.reason or "the model wrote no reply"
    if offline is not None and offline.data.get("text"):
        status = "rejected" if "reply_draft" in notes.rejected else notes.status
        return _with(offline, llm={"status": status, "prompt": notes.prompt, "reason": why})
    return Card(
        type="reply_draft",
        id="reply_draft",
        status="empty",
        data={"text": None, "reason": why, "source": "llm"},
    )
