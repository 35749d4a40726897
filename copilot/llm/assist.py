"""The slow path as the engine's Enricher: enrich a session's cards, answer the agent."""

from __future__ import annotations

import re
import time

from copilot.actions import request_of
from copilot.ask import AskResult, offline_answer
from copilot.enricher import Host, LiveSession
from copilot.event_log import Stale
from copilot.llm import overlay
from copilot.llm.brief import Brief, build
from copilot.llm.drafts import ActionDraft
from copilot.llm.lane import Lanes
from copilot.llm.notes import LlmNotes
from copilot.llm.orchestrator import Orchestrator, ToolBox, TurnResult
from copilot.panel import Card, TokenDelta
from copilot.session_state import SessionState
from tools.errors import CopilotError, InvalidInput, NotFound
from tools.toolkit import CustomerTools

# The customer refers to something the facts summarize only briefly.
_EARLIER = re.compile(
    r"\b(last time|earlier|before|previous(ly)?|again|already (called|told|said)|history)\b", re.I
)
_ORDERS = re.compile(r"\b(order|package|delivery|return|receipt|purchase)s?\b", re.I)


def needed_tools(state: SessionState, brief: Brief) -> set[str]:
    """Which data tools a card turn needs: only for what the brief's facts do not already hold."""
    wanted: set[str] = set()
    said = " ".join(t.text for t in state.customer_turns()[-2:])
    if not brief.passages:
        wanted.add("search_knowledge")
    if not brief.customer_id:
        return wanted
    e = state.entities
    if any(a not in brief.accounts for a in e.accounts):
        wanted.add("billing_account")
    if any(o not in brief.orders for o in e.orders):
        wanted.add("order_details")
    if _EARLIER.search(said):
        wanted.add("customer_history")
    if _ORDERS.search(said) and not brief.orders:
        wanted.add("customer_orders")
    return wanted


def remember(notes: LlmNotes, result: TurnResult, brief: Brief, event_id: str, model: str) -> None:
    """Keep what policy accepted; on a fallback keep only the summary, which is still true."""
    notes.status = result.status  # type: ignore[assignment]
    notes.reason = result.reason
    notes.prompt = result.prompt
    notes.model = model
    notes.event_id = event_id
    notes.turn = result.tally
    notes.conversation.add(result.tally)
    verdict = result.verdict
    if verdict is None:
        notes.rationale = notes.pitch = notes.reply = None
        notes.citations, notes.rejected = [], {}
        return
    if verdict.summary:
        notes.summary, notes.covered = verdict.summary, brief.covers
    notes.rationale, notes.pitch, notes.reply = verdict.rationale, verdict.pitch, verdict.reply
    notes.citations, notes.rejected = verdict.citations, dict(verdict.rejected)


class LlmEnricher:
    """copilot.enricher.Enricher over a LangChain orchestrator."""

    def __init__(self, engine: Host, llm: Orchestrator) -> None:
        self.engine = engine
        self.llm = llm
        self.lanes = Lanes(self.enrich, llm.config.coalesce_ms / 1000)

    def kick(self, session_id: str, event_id: str) -> None:
        self.lanes.kick(session_id, event_id)

    async def settle(self, session_id: str | None = None) -> None:
        await self.lanes.settle(session_id)

    async def forget(self, session_id: str) -> None:
        await self.lanes.forget(session_id)

    async def aclose(self) -> None:
        await self.lanes.aclose()

    def overlay(self, cards: list[Card], state: SessionState) -> list[Card]:
        return overlay.apply(cards, state.llm)

    def restore(self, state: SessionState) -> None:
        """A restarted process picks up the model's summary and spend where they were."""
        ledger = self.llm.ledger
        if ledger is None:
            return
        kept = ledger.last_summary(state.session_id)
        if kept is not None:
            state.llm.summary, state.llm.covered = kept
            state.llm.status = "ok"
        state.llm.conversation = ledger.spent(state.session_id)

    def _box(self, state: SessionState, brief: Brief | None = None) -> ToolBox:
        """The scoped tools; for a card turn (brief given) only those the facts leave a need for.

        Tool schemas are a large share of every prompt: a turn whose facts already cover what
        was said gets none, and the model goes straight to the finish call.
        """
        deps = self.engine.deps
        customer = state.view.customer_id if state.view else ""
        kit = CustomerTools(deps.systems_for(state), customer, deps.retriever, deps.tool_timeout_s)
        tools = kit.tools()
        if brief is not None:
            wanted = needed_tools(state, brief)
            tools = [t for t in tools if t.name in wanted]
        return ToolBox(
            tools=tools,
            passages=lambda: set(kit.log.passages),
        )

    def _brief(self, state: SessionState) -> Brief:
        playbooks = self.engine.deps.playbooks
        playbook = playbooks.for_intent(state.playbook_intent) if playbooks else None
        return build(state, self.llm.config.context_tokens, playbook)

    async def _owner(self, draft: ActionDraft) -> str | None:
        actions = self.engine.deps.systems.actions
        if actions is None:
            return None
        try:
            return await actions.owner(request_of(draft.kind, dict(draft.arguments)))
        except CopilotError:
            return None

    async def enrich(self, session_id: str, event_id: str) -> None:
        """One model turn over the session as it is now; its cards go out as one update."""
        live = self.engine.live(session_id)
        if live is None:
            return
        started = time.perf_counter()
        async with live.lock:
            brief = self._brief(live.state)
            notes = live.state.llm
            if notes.asked == brief.situation and notes.status in ("ok", "partial"):
                return  # nothing new since the last turn: its cards still stand
            box = self._box(live.state, brief)

        async def on_token(field: str, text: str) -> None:
            await self.engine.publish(
                TokenDelta(session_id=session_id, event_id=event_id, field=field, text=text)
            )

        result = await self.llm.write_cards(brief, box, self._owner, event_id, on_token)
        try:
            await self._keep(live, result, brief, event_id, started)
        except Stale:  # another worker moved the session on; its own model turn covers it
            return

    async def _keep(
        self, live: LiveSession, result: TurnResult, brief: Brief, event_id: str, started: float
    ) -> None:
        async with self.engine.hold(live):
            state = live.state
            remember(state.llm, result, brief, event_id, self.llm.config.model)
            state.llm.asked = brief.situation if result.status != "fallback" else None
            if result.verdict and result.verdict.summary and self.llm.ledger is not None:
                self.llm.ledger.keep_summary(
                    live.state.session_id, event_id, result.verdict.summary, brief.covers
                )
            for action in result.verdict.actions if result.verdict else []:
                try:
                    request = request_of(action.kind, dict(action.arguments))
                except InvalidInput as exc:
                    state.llm.rejected["action"] = str(exc)
                    continue
                await self.engine.add_proposal(
                    state, request, "llm", action.why or "proposed by the model"
                )
            update = self.engine.refresh(live, event_id, started, source="llm")
            await self.engine.publish(update)

    async def ask(self, session_id: str, question: str) -> AskResult:
        """Answer the agent from the facts, the tools and the knowledge base."""
        live = self.engine.live(session_id)
        if live is None:
            raise NotFound(f"no live session {session_id}")
        async with live.lock:
            brief = self._brief(live.state)
            box = self._box(live.state)
            n = live.state.events_seen
        result = await self.llm.answer(brief, question, box, f"ask:{n}")
        if result.answer:
            return AskResult(
                status="ok",
                answer=result.answer,
                citations=result.citations,
                prompt=result.prompt,
                tokens=result.tally.total,
            )
        found = await offline_answer(self.engine.deps.retriever, question)
        return found.model_copy(
            update={
                "status": "fallback",
                "reason": result.reason,
                "prompt": result.prompt,
                "tokens": result.tally.total,
            }
        )
