"""What routes need, built once in the app factory and handed over by FastAPI's Depends."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from copilot.settings import Settings
from tools.base import Systems


@dataclass
class CopilotDeps:
    settings: Settings
    systems: Systems
    today: Callable[[], date] = field(default=date.today)


def get_deps(request: Request) -> CopilotDeps:
    deps: CopilotDeps = request.app.state.deps
    return deps


DepsDep = Annotated[CopilotDeps, Depends(get_deps)]
