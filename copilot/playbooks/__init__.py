"""Next-best-action: playbooks as data (YAML) and a tracker of where a conversation stands.

A suggestion is always a playbook step, never free text: the LLM path may phrase it, not invent it.
"""

from __future__ import annotations

from copilot.playbooks.model import (
    DEFAULT_PATH,
    FACTS,
    GATES,
    Condition,
    Playbook,
    PlaybookSet,
    Step,
    load_default,
)
from copilot.playbooks.tracker import Facts, Progress, StepState, holds, track

__all__ = [
    "DEFAULT_PATH",
    "FACTS",
    "GATES",
    "Condition",
    "Facts",
    "Playbook",
    "PlaybookSet",
    "Progress",
    "Step",
    "StepState",
    "holds",
    "load_default",
    "track",
]
