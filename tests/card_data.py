"""Tests read panel cards through the published card models, not by digging into dicts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel

from copilot.card_models import CARD, parse
from copilot.panel import Card

D = TypeVar("D", bound=BaseModel)


def data(card: Card | Mapping[str, Any] | None, kind: type[D]) -> D:
    """The card's data as `kind`; fails the test when there is no card or it has another shape.

    A card read over HTTP (a dict) is checked as strictly as a `Card` from the engine.
    """
    assert card is not None, "no such card"
    typed = (
        parse(card) if isinstance(card, Card) else CARD.validate_json(json.dumps(card), strict=True)
    )
    assert isinstance(typed.data, kind), (
        f"{typed.id}: {type(typed.data).__name__}, not {kind.__name__}"
    )
    return typed.data
