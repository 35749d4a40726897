"""The one port the slow path enters through: the engine calls an Enricher, never copilot.llm.

The engine owns sessions, locks and publishing; an enricher reads a live session, writes its
notes onto the state and asks the engine (its `Host`) to refresh and publish. The LLM package
implements it (copilot.llm.assist.LlmEnricher); the composition root plugs it in.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any, Protocol

from copilot.ask import AskResult
from copilot.panel import Card, PanelUpdate, StreamItem
from copilot.session_state import SessionState

if TYPE_CHECKING:
    from copilot.deps import EngineDeps


class LiveSession(Protocol):
    state: SessionState
    lock: Any


class Host(Protocol):
    """What an enricher may use of the engine."""

    deps: EngineDeps

    def live(self, session_id: str) -> LiveSession | None: ...

    async def publish(self, item: StreamItem) -> None: ...

    def hold(self, live: Any, fence: bool = True) -> AbstractAsyncContextManager[None]:
        """The session to oneself (raises copilot.event_log.Stale if another worker moved it)."""
        ...

    def refresh(
        self, live: Any, event_id: str, started: float, source: str = "fast"
    ) -> PanelUpdate: ...

    async def add_proposal(self, state: SessionState, request: Any, by: str, why: str) -> Any: ...


class Enricher(Protocol):
    """Enriches a session's cards in the background and answers the agent's questions."""

    def restore(self, state: SessionState) -> None:
        """Pick up what a restarted process had written for this session."""
        ...

    def kick(self, session_id: str, event_id: str) -> None:
        """A new event arrived: enrich when the session is quiet."""
        ...

    async def settle(self, session_id: str | None = None) -> None: ...

    async def forget(self, session_id: str) -> None: ...

    def overlay(self, cards: list[Card], state: SessionState) -> list[Card]:
        """The offline cards with what the model wrote and policy accepted laid over them."""
        ...

    async def ask(self, session_id: str, question: str) -> AskResult: ...

    async def aclose(self) -> None: ...


EnricherFactory = Callable[[Host], Enricher]
