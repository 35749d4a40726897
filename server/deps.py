"""What routes need, built once in the app factory and handed over by FastAPI's Depends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Annotated

from fastapi import Depends, Request

from copilot.knowledge import build_retriever
from copilot.settings import Settings
from tools.base import Systems
from tools.kb.retriever import Retriever


@dataclass
class CopilotDeps:
    settings: Settings
    systems: Systems
    today: Callable[[], date] = field(default=date.today)
    _retriever: Retriever | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def retriever(self) -> Retriever:
        """Built on first use: loading the embedding model takes seconds; not every run needs it."""
        with self._lock:
            if self._retriever is None:
                self._retriever = build_retriever(self.settings)
            return self._retriever


def get_deps(request: Request) -> CopilotDeps:
    deps: CopilotDeps = request.app.state.deps
    return deps


DepsDep = Annotated[CopilotDeps, Depends(get_deps)]
