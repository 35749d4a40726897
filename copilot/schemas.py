"""The JSON Schemas the copilot publishes at /schemas, for the systems that talk to it."""

from __future__ import annotations

from typing import Any

from copilot.card_models import CARD, TypedPanelUpdate
from copilot.events import Event
from copilot.handoff import HandoffPacket, HandoffRequest


def schemas() -> dict[str, dict[str, Any]]:
    """Every published schema by file name: what comes in (events, handoffs), what goes out."""
    return {
        "card.json": CARD.json_schema(),
        "event.json": Event.model_json_schema(),
        "handoff-packet.json": HandoffPacket.model_json_schema(),
        "handoff-request.json": HandoffRequest.model_json_schema(),
        "panel-update.json": TypedPanelUpdate.model_json_schema(),
    }
