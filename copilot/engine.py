"""The fast path: events in, panel updates out, with no LLM.

redact -> store -> entities -> identity -> intent -> mood -> customer view -> knowledge -> cards
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

from copilot import cards, nba, summary
from copilot.actions import ActionLedger, Proposal, action_id, offline_request
from copilot.batching import EmbedBatcher
from copilot.continuity import (
    Check,
    Policies,
    TenantPolicy,
    Touchpoint,
    TouchpointLog,
    asked,
    identity_item,
    provided_item,
)
from copilot.entities import extract
from copilot.events import Event
from copilot.extractive import clip
from copilot.handoff import Provided
from copilot.llm import overlay
from copilot.llm.lane import Lanes
from copilot.offers import Catalogue, OfferDecision, OfferLedger, choose, eligible
from copilot.panel import Card, Panel, PanelUpdate, StreamItem
from copilot.pii import RedactionPolicy, redact, redact_reply
from copilot.playbooks import PlaybookSet, track
from copilot.sessions import SessionStore
from copilot.state import IntentPredictor, MoodFollower, SessionState
from copilot.storage import aware_utc
from tools.actions import check_approver
from tools.base import Systems
from tools.calls import Caller
from tools.errors import ConfigurationError, CopilotError, InvalidInput, NotFound
from tools.identity import Candidate, Evidence, IdentityQuery, Resolution, resolve
from tools.kb.embeddings import Embedder
from tools.kb.query import ConversationQuery
from tools.kb.query import Turn as KbTurn
from tools.kb.retriever import Retriever
from tools.view import customer_360

if TYPE_CHECKING:
    from copilot.llm.assist import AskResult
    from copilot.llm.orchestrator import Orchestrator

Listener = Callable[[StreamItem], Awaitable[None]]
IDENTITY_KEYS = ("phone", "email", "account", "order", "customer_id")
# Vectors of the latest customer turns, newest first, stand in for embedding the joined text:
# one forward pass per utterance instead of three (intent, mood and the knowledge query).
# Tuned on DSTC11 val (`copilot bench kb`): the blend ranks as well as embedding the joined query.
INTENT_WEIGHTS = (1.0, 1.0)
QUERY_WEIGHTS = (1.0, 0.3)  # newest customer turn first
REPLY_WEIGHT = 0.5  # the agent's last reply, which often names what "it" is
ISSUE_CHARS = 120  # the reason for contact, as the customer first put it
CARRY_AT_MOST = timedelta(hours=24)  # older checks elsewhere are history, not a verification
# A confident new intent with a playbook takes over from the current one; a hesitant one does not.
SWITCH_CONFIDENCE = 0.75
OFFER_RESPONSES = ("accepted", "dismissed")
ESCALATION_PLAYBOOK = "complaint_escalation"
# Conversations where selling anything reads as not listening.
NO_OFFER_TOPICS = frozenset(
    {"cancel_service", "complaint_escalation", "switch_to_competitor", "speak_to_human"}
)


@dataclass
class EngineDeps:
    """Everything the engine uses, passed in: tests and the server build their own."""

    systems: Systems
    store: SessionStore
    retriever: Retriever | None = None
    intent: IntentPredictor | None = None
    mood: Callable[[], MoodFollower] | None = None
    embedder: Embedder | None = None
    playbooks: PlaybookSet | None = None
    offers: Catalogue | None = None
    ledger: OfferLedger | None = None
    policy: RedactionPolicy = field(default_factory=RedactionPolicy)
    today: Callable[[], date] = date.today
    tool_timeout_s: float = 2.0
    llm: Orchestrator | None = None  # the slow path; None: the offline engine alone
    actions: ActionLedger | None = None  # where proposals and approvals are recorded
    touchpoints: TouchpointLog | None = None  # this customer's other contacts, across channels
    policies: Policies = field(default_factory=lambda: Policies(TenantPolicy(), {}))
    tenant_of: Callable[[str], str | None] | None = None  # a session's tenant, for its policy


@dataclass
class _Live:
    state: SessionState
    panel: Panel = field(default_factory=Panel)
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class Engine:
    """One engine per process; sessions live in memory and are rebuilt from the log on demand."""

    def __init__(self, deps: EngineDeps) -> None:
        self.deps = deps
        self._live: dict[str, _Live] = {}
        self._listeners: list[Listener] = []
        self.lanes: Lanes | None = None
        self.batcher = EmbedBatcher(deps.embedder) if deps.embedder is not None else None
        if deps.llm is not None:
            from copilot.llm.assist import Assistant

            self.assistant = Assistant(self, deps.llm)
            self.lanes = Lanes(self.assistant.enrich, deps.llm.config.coalesce_ms / 1000)

    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Receive every panel update and token delta; returns the function that unsubscribes."""
        self._listeners.append(listener)
        return lambda: self._listeners.remove(listener)

    async def publish(self, item: StreamItem) -> None:
        for listener in list(self._listeners):
            await listener(item)

    async def settle(self, session_id: str | None = None) -> None:
        """Wait for the slow path to finish what it has been given."""
        if self.lanes is not None:
            await self.lanes.settle(session_id)

    async def release(self, session_id: str) -> None:
        """A closed session leaves memory; its log stays, and reading it rebuilds the panel."""
        if self.lanes is not None:
            await self.lanes.forget(session_id)
        self._live.pop(session_id, None)

    def live(self, session_id: str) -> _Live | None:
        return self._live.get(session_id)

    async def ask(self, session_id: str, question: str) -> AskResult:
        """The agent's own question: the model with tools when configured, else the best passage."""
        from copilot.llm.assist import check_question, offline_answer

        text = check_question(question)
        if self.live(session_id) is None and not self.deps.store.events(session_id):
            raise NotFound(f"no session {session_id}")
        if self.live(session_id) is None:
            await self._restore(session_id)
        if self.deps.llm is None:
            return await offline_answer(self, text)
        return await self.assistant.ask(session_id, text)

    async def decide(
        self, session_id: str, action: str, approve: bool, by: str
    ) -> PanelUpdate | None:
        """An agent approves or rejects a proposed action; approved ones run, then report back."""
        started = time.perf_counter()
        live = self._live.get(session_id) or await self._restore(session_id)
        ledger = self.deps.actions
        proposal = live.state.proposals.get(action)
        if ledger is None or proposal is None:
            raise NotFound(f"no action {action} in session {session_id}")
        who = check_approver(by)
        async with live.lock:
            if proposal.status != "proposed":
                raise InvalidInput("action", f"{action} is already {proposal.status}")
            proposal.status = "approved" if approve else "rejected"
            proposal.decided_by, proposal.decided_at = who, datetime.now(UTC)
            ledger.decide(action, proposal.status, who)
            if not approve:
                update = self.refresh(live, action, started, source="action")
        if not approve:
            await self.publish(update)
            return update
        runner = self.deps.systems.actions
        try:
            if runner is None:
                raise ConfigurationError("no system can perform write actions here")
            outcome = await runner.perform(action, proposal.request, approved_by=who)
        except CopilotError as exc:
            async with live.lock:
                proposal.status, proposal.result = "failed", str(exc)
                ledger.decide(action, "failed", None, str(exc))
                update = self.refresh(live, action, started, source="action")
            await self.publish(update)
            return update
        proposal.status, proposal.result = "done", outcome.message
        ledger.decide(action, "done", None, outcome.message)
        channel = live.state.channels[-1][0] if live.state.channels else "chat"
        return await self.handle(
            Event(
                event_id=f"{action}.done",
                session_id=session_id,
                type="action_result",
                speaker="system",
                channel=channel,
                ts=datetime.now(UTC),
                data={
                    "action": proposal.kind,
                    "status": "done",
                    "action_id": action,
                    "approved_by": who,
                    "reference": outcome.reference,
                    "message": outcome.message,
                },
            )
        )

    async def handle(self, event: Event) -> PanelUpdate | None:
        """Apply one event; None when it was a duplicate and changed nothing."""
        started = time.perf_counter()
        raw_text = event.text
        live = self._live.get(event.session_id) or await self._restore(event.session_id)
        text = redact(raw_text, self.deps.policy).text
        turns = live.state.turns
        if event.speaker == "customer" and turns and turns[-1].speaker in ("bot", "agent"):
            text = redact_reply(turns[-1].text, text) or text
        clean = event.model_copy(update={"text": text})
        async with live.lock:
            appended = self.deps.store.append(clean)
            if appended.duplicate:
                return None
            if appended.late:
                # An event that belongs earlier: fold the whole log again in order.
                live.state = SessionState(session_id=event.session_id)
                for past in self.deps.store.events(event.session_id):
                    await self._fold(live.state, past, past.text)
            else:
                await self._fold(live.state, clean, raw_text)
            update = self.refresh(live, event.event_id, started)
        await self.publish(update)
        if self.lanes is not None and event.type != "metadata":
            self.lanes.kick(event.session_id, event.event_id)
        return update

    def refresh(
        self, live: _Live, event_id: str, started: float, source: str = "fast"
    ) -> PanelUpdate:
        """The cards that changed since the last update (the caller holds live.lock)."""
        changed = live.panel.diff(self._cards(live.state))
        live.panel.version += 1
        return PanelUpdate(
            session_id=live.state.session_id,
            version=live.panel.version,
            event_id=event_id,
            cards=changed,
            latency_ms=round((time.perf_counter() - started) * 1000, 2),
            source=source,
        )

    def panel(self, session_id: str) -> list[Card]:
        live = self._live.get(session_id)
        return list(live.panel.cards.values()) if live else []

    def warm_up(self) -> None:
        """Load what the first event would otherwise wait for: models, lexical index."""
        text = "Hello, my bill looks wrong this month."
        vector = None
        if self.deps.embedder is not None:
            vector = np.asarray(self.deps.embedder.embed([text])[0])
        if self.deps.intent is not None:
            self.deps.intent.predict([text], vectors=None if vector is None else [vector])
        if self.deps.mood is not None:
            self.deps.mood().update("warm-up", text, vector=vector)
        if self.deps.retriever is not None:
            with contextlib.suppress(CopilotError):
                self.deps.retriever.search(text, 1)

    async def snapshot(self, session_id: str) -> tuple[list[Card], int]:
        """Every card of a session and the panel's version, rebuilt from the log if need be."""
        live = self._live.get(session_id) or await self._restore(session_id)
        async with live.lock:
            return list(live.panel.cards.values()), live.panel.version

    async def _restore(self, session_id: str) -> _Live:
        live = _Live(SessionState(session_id=session_id))
        tenant = self.deps.tenant_of(session_id) if self.deps.tenant_of else None
        live.state.window = self.deps.policies.window(tenant)
        if self.deps.actions is not None:
            live.state.proposals = {p.action_id: p for p in self.deps.actions.session(session_id)}
        if self.deps.llm is not None:
            self.assistant.restore(live.state)
        history = self.deps.store.events(session_id)
        for past in history:
            await self._fold(live.state, past, past.text)
        if history:  # a restored session's cards are already on the agent's screen
            live.panel.diff(self._cards(live.state))
            live.panel.version = len(history)
        self._live[session_id] = live
        return live

    async def _fold(self, state: SessionState, event: Event, raw_text: str) -> None:
        """Update state with one event. raw_text never leaves this call."""
        state.record(event)
        today = self.deps.today()
        if event.type == "utterance" and raw_text:
            found = extract(raw_text, today)
            if not found.is_empty():
                state.entities = state.entities.merge(found)
                if event.speaker == "customer":
                    self._note_provided(state, event, found)
        said = event.type == "utterance" and event.speaker == "customer" and event.text.strip()
        if said and "issue" not in state.provided:
            state.provided["issue"] = provided_item(
                "issue", clip(event.text, ISSUE_CHARS), "customer", event.channel, event.event_id
            )
        if event.type == "utterance" and event.speaker == "agent":
            state.repeat = self._repeat(state, event)
        if event.type == "metadata" and "handoff_from" in event.data:
            bot = str(event.data["handoff_from"])
            details = event.data.get("details")
            for name, value in (details if isinstance(details, dict) else {}).items():
                state.provided.setdefault(
                    str(name), provided_item(str(name), value, bot, event.channel, event.event_id)
                )
        if event.type == "action_result":
            self._settle_proposals(state, event)
        if event.type == "action_result" and state.view is not None:
            await self._load_view(state, state.view.customer_id)
        if event.type == "utterance" and event.speaker == "customer" and event.text.strip():
            vector = await self._embed(state, event)
            if self.deps.intent is not None:
                recent = state.customer_turns()[-2:]
                blend = state.blend([t.event_id for t in recent], INTENT_WEIGHTS)
                state.intent = self.deps.intent.predict(
                    [" ".join(t.text for t in recent)],
                    vectors=None if blend is None else [blend],
                )[0]
                state.intent_event = event.event_id
            if self.deps.mood is not None:
                if state.mood_follower is None:
                    state.mood_follower = self.deps.mood()
                state.mood = state.mood_follower.update(event.event_id, event.text, vector=vector)
            # The systems wait on I/O while retrieval works the CPU: run them side by side.
            await asyncio.gather(self._identify(state, event), self._search(state, event))
        else:
            await self._identify(state, event)
        self._advance(state, event)
        self._touch(state)

    def _note_provided(self, state: SessionState, event: Event, found: Any) -> None:
        """The identifiers the customer gave, first mention kept: the agent need not ask again."""
        source = "customer"
        for name, values in (
            ("phone", found.phones),
            ("email", found.emails),
            ("account", found.accounts),
            ("order", found.orders),
            ("card_last4", found.card_last4),
        ):
            if values and name not in state.provided:
                state.provided[name] = provided_item(
                    name, values[0], source, event.channel, event.event_id
                )

    def _repeat(self, state: SessionState, event: Event) -> tuple[Provided, str] | None:
        """What the agent's line asks for that the customer already gave, if anything."""
        for name in asked(event.text):
            if name == "identity":
                item = identity_item(state.verification())
            else:
                item = state.provided.get(name)
            if item is not None:
                return item, event.event_id
        return None

    def _touch(self, state: SessionState) -> None:
        """Keep this session's row in the customer's touchpoints when something worth it changed."""
        log, view = self.deps.touchpoints, state.view
        if log is None or view is None or state.now is None:
            return
        own = [c for c in state.verifications if c.result == "passed"]
        last = max(own, key=lambda c: c.at) if own else None
        intent = state.playbook_intent or getattr(state.intent, "intent", None)
        channel = state.channels[-1][0] if state.channels else "chat"
        key = json.dumps([view.customer_id, channel, intent, last and last.at.isoformat()])
        if key == state.touchpoint_key:
            return
        state.touchpoint_key = key
        log.record(
            Touchpoint(
                session_id=state.session_id,
                customer_id=view.customer_id,
                channel=channel,
                started_at=state.started or state.now,
                last_at=state.now,
                intent=intent,
                verified_method=last.method if last else None,
                verified_channel=last.channel if last else None,
                verified_at=last.at if last else None,
            )
        )

    def _advance(self, state: SessionState, event: Event) -> None:
        """Playbook progress, then the offer gate: both read what the event just changed."""
        playbooks = self.deps.playbooks
        if playbooks is not None:
            guess = state.intent
            name = getattr(guess, "intent", None)
            said = (state.handoff or {}).get("intent")
            if state.playbook_intent is None and said and playbooks.for_intent(str(said)):
                # The bot read the whole conversation; until the copilot is surer, take its word.
                state.playbook_intent = str(said)
            if (
                name != state.playbook_intent
                and playbooks.for_intent(name) is not None
                and (state.playbook_intent is None or guess.confidence >= SWITCH_CONFIDENCE)
            ):
                state.playbook_intent = name
            playbook = playbooks.for_intent(state.playbook_intent)
            facts = nba.facts(state)
            state.progress = track(playbook, facts) if playbook else None
            state.escalation = None
            escalation = playbooks.for_intent(ESCALATION_PLAYBOOK)
            if getattr(state.mood, "alert", False) and escalation is not None:
                # At risk of losing the customer: the escalation playbook's next step rides along.
                state.escalation = track(escalation, facts).next
        self._propose(state, event)
        history = state.offer_history
        history.session_id = event.session_id
        data = event.data
        if event.type == "action_result" and data.get("action") == "offer_response":
            offer_id, answer = str(data.get("offer_id")), data.get("response")
            # Only an answer to the offer on screen counts; anything else is ignored, not stored.
            known = offer_id in {e.offer_id for e in history.events}
            if (
                answer in OFFER_RESPONSES
                and known
                and history.record(offer_id, answer, event.event_id, event.ts)
            ):
                self._ledger(state, offer_id, answer, event)
        if self.deps.offers is None or state.view is None:
            state.offer = None
            return
        mood = state.mood
        label = getattr(getattr(mood, "current", None), "label", None)
        if getattr(mood, "alert", False):
            label = "negative"
        resolved = (state.progress is not None and state.progress.resolved) or any(
            d.get("resolves") for _, d in state.actions
        )
        if state.playbook_intent in NO_OFFER_TOPICS:
            state.offer = OfferDecision(held_back=f"no offers in a {state.playbook_intent} talk")
            return
        done = {str(v) for _, d in state.actions for k, v in d.items() if k in ("sku", "plan")}
        state.offer = choose(
            # What the agent just sold or changed is not offered again.
            [
                m
                for m in eligible(self.deps.offers, state.view, self.deps.today())
                if not {m.sku, m.plan_code} & done
            ],
            mood_label=label,
            issue_resolved=resolved,
            history=history,
        )
        shown = state.offer.offer
        if shown is not None and not state.offer.already_shown:
            history.record(shown.offer_id, "shown", event.event_id, event.ts)
            self._ledger(state, shown.offer_id, "shown", event)

    def _propose(self, state: SessionState, event: Event) -> None:
        """The next step's write action, where the view says on what: the agent's "Do it"."""
        step = state.progress.next if state.progress else None
        if self.deps.actions is None or step is None or state.view is None:
            return
        request = offline_request(step.uses, state.view)
        if request is not None:
            self.add_proposal(state, request, "playbook", f"step {step.id}: {step.title}")

    def _settle_proposals(self, state: SessionState, event: Event) -> None:
        """An action done outside the copilot (a bot, another screen) closes its proposal."""
        done = event.data.get("action")
        if event.data.get("status", "done") in ("failed", "error") or not done:
            return
        for proposal in state.proposals.values():
            if proposal.kind == done and proposal.status == "proposed":
                proposal.status, proposal.result = (
                    "done",
                    f"done outside the copilot ({event.event_id})",
                )
                if self.deps.actions is not None:
                    self.deps.actions.decide(proposal.action_id, "done", None, proposal.result)

    def add_proposal(self, state: SessionState, request: Any, by: str, why: str) -> Proposal | None:
        """Record a proposal once; the action card asks the agent to approve it."""
        if self.deps.actions is None or state.view is None:
            return None
        proposal = Proposal(
            action_id=action_id(state.session_id, request),
            session_id=state.session_id,
            customer_id=state.view.customer_id,
            request=request,
            proposed_by=by,
            why=why,
        )
        known: Proposal | None = state.proposals.get(proposal.action_id)
        if known is not None:
            return known
        self.deps.actions.propose(proposal)
        state.proposals[proposal.action_id] = proposal
        return proposal

    def _ledger(self, state: SessionState, offer_id: str, status: str, event: Event) -> None:
        if self.deps.ledger is not None and state.view is not None:
            self.deps.ledger.record(
                event.session_id,
                state.view.customer_id,
                offer_id,
                status,  # type: ignore[arg-type]
                event.event_id,
                event.ts,
            )

    async def _embed(self, state: SessionState, event: Event) -> Any:
        """Embed an utterance once; intent, mood and retrieval all reuse the vector."""
        if self.batcher is None:
            return None
        ids, texts = [event.event_id], [event.text]
        replies = [t for t in state.turns if t.speaker in ("agent", "bot")]
        if self.deps.retriever and replies and replies[-1].event_id not in state.vectors:
            # The agent's last reply is embedded only when a customer turn needs it for the
            # knowledge query, in the same forward pass: half the model calls of a conversation.
            ids.append(replies[-1].event_id)
            texts.append(replies[-1].text)
        # Off the event loop, in a pass shared with other sessions' lines that arrive meanwhile.
        embedded = await self.batcher.embed([" ".join(t.split()) for t in texts])
        for turn_id, row in zip(reversed(ids), reversed(embedded), strict=True):
            state.remember_vector(turn_id, np.asarray(row))
        return state.vectors[event.event_id]

    async def _identify(self, state: SessionState, event: Event) -> None:
        given = self._identity_query(state)
        key = json.dumps(given, sort_keys=True)
        if not given or key == state.identity_key:
            return
        if state.identity is not None and state.identity.status == "matched":
            return
        state.identity_key = key
        state.identity_events.append(event.event_id)
        direct = given.pop("customer_id", None)
        if direct:
            await self._load_view(state, str(direct), direct=True)
            return
        caller = Caller(timeout_s=self.deps.tool_timeout_s)
        try:
            state.identity = await resolve(self.deps.systems, IdentityQuery(**given), caller)
        except CopilotError:
            return  # a malformed identifier in free text is not an error for the agent
        if state.identity.status == "matched" and state.identity.customer_id:
            await self._load_view(state, state.identity.customer_id)

    def _identity_query(self, state: SessionState) -> dict[str, str]:
        e = state.entities
        given: dict[str, str] = {}
        meta = state.metadata
        for key in IDENTITY_KEYS:
            if meta.get(key):
                given[key] = str(meta[key])
        if e.phones and "phone" not in given:
            given["phone"] = e.phones[-1]
        if e.emails and "email" not in given:
            given["email"] = e.emails[-1]
        if e.accounts and "account" not in given:
            given["account"] = e.accounts[-1]
        if e.orders and "order" not in given:
            given["order"] = e.orders[-1]
        if e.card_last4 and e.amounts and e.dates:
            given.update(
                card_last4=e.card_last4[-1],
                amount=str(e.amounts[-1]),
                purchase_date=e.dates[-1].isoformat(),
            )
        return given

    async def _load_view(self, state: SessionState, customer_id: str, direct: bool = False) -> None:
        caller = Caller(timeout_s=self.deps.tool_timeout_s)
        try:
            state.view = await customer_360(
                self.deps.systems, customer_id, caller=caller, today=self.deps.today()
            )
        except NotFound:
            state.view = None
            return
        self._carry(state, customer_id)
        if direct:
            profile = state.view.profile.data
            state.identity = Resolution(
                status="matched",
                customer_id=customer_id,
                message="identified by the channel",
                candidates=[
                    Candidate(
                        customer_id=customer_id,
                        full_name=profile.full_name if profile else customer_id,
                        confidence=1.0,
                        evidence=[
                            Evidence(
                                identifier="account",
                                system="channel",
                                detail="authenticated channel",
                            )
                        ],
                    )
                ],
                degraded=[],
                tool_calls=[],
            )

    def _carry(self, state: SessionState, customer_id: str) -> None:
        """Checks done elsewhere (the CRM, the customer's other sessions) that may still hold."""
        now = state.now or datetime.now(UTC)
        carried: list[Check] = []
        history = state.view.interactions.data if state.view is not None else None
        for v in history.verifications if history else []:
            at = aware_utc(v.at)
            if now - at <= CARRY_AT_MOST:
                carried.append(Check(v.method, v.channel, at, v.result, f"crm:{v.verification_id}"))
        others: list[Touchpoint] = []
        if self.deps.touchpoints is not None:
            others = [
                t
                for t in self.deps.touchpoints.for_customer(customer_id)
                if t.session_id != state.session_id
            ]
        for point in others:
            check = point.check()
            if check is not None and now - check.at <= CARRY_AT_MOST:
                carried.append(check)
        state.carried, state.other_sessions = carried, others

    async def _search(self, state: SessionState, event: Event) -> None:
        if self.deps.retriever is None:
            return
        intent = getattr(state.intent, "intent", None)
        names = state.entities.plans + state.entities.products
        query = ConversationQuery(
            turns=[KbTurn(speaker=t.speaker, text=t.text) for t in state.turns[-8:]],
            intent=intent,
            entities=names,
        )
        said = [t.event_id for t in reversed(state.customer_turns()[-len(QUERY_WEIGHTS) :])]
        weights = QUERY_WEIGHTS[: len(said)]
        replies = [t for t in state.turns if t.speaker in ("agent", "bot")]
        if replies:
            said.append(replies[-1].event_id)
            weights += (REPLY_WEIGHT,)
        blend = state.blend(said, weights)
        try:
            found = await asyncio.to_thread(
                self.deps.retriever.search, query, 8, query_vector=blend
            )
        except CopilotError:
            return
        # Three articles, not three passages of one: the best passage of each.
        best: dict[str, Any] = {}
        for hit in found.hits:
            best.setdefault(hit.citation.article_id, hit)
        found = found.model_copy(update={"hits": list(best.values())[:3]})
        if not found.hits and state.knowledge is not None and state.knowledge.hits:
            return  # "It's 402931" or "thanks" asks nothing new: keep the article on screen
        state.knowledge = found
        state.knowledge_event = event.event_id

    def _cards(self, state: SessionState) -> list[Card]:
        return overlay.apply(self._offline_cards(state), state.llm) + [
            p.card() for p in state.proposals.values()
        ]

    def _offline_cards(self, state: SessionState) -> list[Card]:
        return [
            cards.customer_card(state),
            cards.journey_card(state),
            cards.intent_card(state),
            cards.mood_card(state),
            cards.knowledge_card(state),
            nba.nba_card(
                state, state.progress, self.deps.playbooks.name if self.deps.playbooks else ""
            ),
            nba.offer_card(state, state.offer),
            summary.summary_card(state),
            *cards.alert_cards(state),
        ]
