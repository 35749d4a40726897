"""Prompt tokens per conversation: our orchestrator beside two ways of running an agent.

Ours is the engine as shipped with the LLM path on: every event is folded by the fast path, then
one model turn writes the cards from a brief (the facts gathered, the previous summary and only
the turns since it). Both baselines are LangChain's `create_agent` over the same scoped customer
tools, the same system prompt and the same `write_cards` finish:

- transcript: it keeps no notes between turns, so each turn a fresh invocation is handed the
  whole transcript so far and asked to update the panel. Having no facts, it gathers on every
  turn what our prompt carries, in one response of parallel tool calls: the customer's profile,
  billing accounts and orders, and the knowledge passages for the recent customer lines. Then
  it writes the cards.
- agent history: the way the agent is run in a chat, one thread with a checkpointer
  (`InMemorySaver`), sent only the new line each turn (the standing instruction comes once, with
  the first line). Every request re-reads the thread: each earlier line, the agent's own tool
  calls and their results. It looks the profile, accounts and orders up once, on the first
  turn (later turns find them in the thread), and searches the knowledge base on each customer
  turn for the recent customer lines, as ours retrieves on each customer turn; an agent turn
  goes straight to the cards.

Each side talks to its own fake OpenAI-compatible server on loopback, and all are counted with
the same tiktoken counter (`copilot.testing.fake_openai.prompt_tokens`) over every request sent.
Deterministic and offline: the fake answers as a model would; what is measured is what was sent.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import httpx
from langchain_core.messages import AnyMessage, HumanMessage
from langchain_core.tools import BaseTool, StructuredTool

import prompts
from copilot.events import Event
from copilot.llm.drafts import CARDS_TOOL, WRITE_CARDS, PanelDraft
from copilot.settings import Settings, load_settings
from copilot.testing import model_like
from copilot.testing.fake_openai import Call, FakeOpenAI, Reply, prompt_tokens

if TYPE_CHECKING:
    from langchain.agents.middleware import InputAgentState

    from copilot.engine import Engine
    from tools.kb.retriever import Retriever

TURNS = (10, 20, 40, 80)
COMPANY = "Brightwave Mobile"
MODEL = "bench"
EVAL_DATA = Path("var/eval-data")
PHONE = "(415) 555-0101"  # Margaret Chen, the past-due story of tools/demo/stories.py
CHANNEL = "chat"
LINEAR_WITHIN = 1.5  # ours: tokens per turn at the longest within this factor of the shortest
FEWER_AT = (40, 5.0)  # at 40 turns each baseline sends at least 5x what we send
Side = Literal["ours", "transcript", "history"]
SIDES: tuple[Side, ...] = ("ours", "transcript", "history")
BASELINES: tuple[Side, ...] = ("transcript", "history")
LABELS: dict[Side, str] = {
    "ours": "ours",
    "transcript": "transcript baseline",
    "history": "agent-history baseline",
}
# What the baselines' model fetches before it writes: the facts our prompt carries.
FACT_TOOLS = ("customer_profile", "billing_accounts", "customer_orders")
SEARCH_TOOL = "search_knowledge"
NOTES = (
    "transcript baseline: create_agent, a fresh invocation each turn handed the whole "
    "transcript so far; no memory, so every turn it fetches profile, billing accounts, orders "
    "and knowledge for the last three customer lines (4 parallel tool calls), then writes "
    "the cards",
    "agent-history baseline: create_agent on one checkpointed thread (InMemorySaver), sent only "
    "the new line; fetches profile, billing accounts and orders once (first turn), searches "
    "knowledge on each customer turn for the last three customer lines, then writes the cards; "
    "each request re-reads every earlier line, tool call and tool result",
)
OPENER = f"Hi, I got an email saying my bill is past due. My number is {PHONE}."
CYCLE = (
    (
        "agent",
        "I'm sorry about that. I see your autopay card expired in September, so the payment "
        "was declined.",
    ),
    ("customer", "Oh no. I've been on autopay for ten years. Can I give you my new card?"),
    ("agent", "Of course, I'm sending you the secure payment form now."),
    ("customer", "Done. Will I still have to pay that late fee?"),
    ("agent", "I've credited the late fee back, so you won't see it on your next bill."),
    ("customer", "Thanks. My data also keeps running out before the end of the month."),
    ("agent", "I can see you went over your allowance in each of the last three months."),
    ("customer", "Is there a plan that would stop that from happening?"),
    ("agent", "The unlimited plan would cover what you use; I can walk you through the price."),
    ("customer", "Thank you so much, that's great, you've been really helpful!"),
)
INSTRUCTION = (
    "Above is the whole conversation so far. Update the summary, say what the agent should do "
    "next and why, draft the agent's next reply, pitch an offer only if one fits, and propose "
    f"write actions only where they are needed. Then call {WRITE_CARDS}."
)
# The agent with history gets its standing instruction once, before the first line.
THREAD_INSTRUCTION = (
    "Each message that follows is the next line of a live conversation. After each one, update "
    "the summary, say what the agent should do next and why, draft the agent's next reply, pitch "
    "an offer only if one fits, and propose write actions only where they are needed. Then call "
    f"{WRITE_CARDS}."
)


@dataclass
class Row:
    """One conversation length: the prompt tokens each side sent over the whole conversation."""

    turns: int
    ours: int
    transcript: int
    history: int
    ours_requests: int
    transcript_requests: int
    history_requests: int
    ours_fallbacks: int  # turns whose model run fell back (budget, error): should be 0
    ours_per_turn: list[int] = field(default_factory=list)  # prompt tokens of each turn
    transcript_per_turn: list[int] = field(default_factory=list)
    history_per_turn: list[int] = field(default_factory=list)

    def total(self, side: Side) -> int:
        return {"ours": self.ours, "transcript": self.transcript, "history": self.history}[side]

    def requests(self, side: Side) -> int:
        return {
            "ours": self.ours_requests,
            "transcript": self.transcript_requests,
            "history": self.history_requests,
        }[side]

    def per_turn(self, side: Side) -> list[int]:
        return {
            "ours": self.ours_per_turn,
            "transcript": self.transcript_per_turn,
            "history": self.history_per_turn,
        }[side]

    def mean(self, side: Side) -> float:
        """Prompt tokens per turn, averaged over the conversation."""
        return self.total(side) / self.turns

    def fewer(self, baseline: Side) -> float:
        """How many times more the baseline sent than we did (0.0 when we sent nothing)."""
        return self.total(baseline) / self.ours if self.ours else 0.0


def conversation(turns: int) -> list[tuple[str, str]]:
    """`turns` utterances, customer and agent in turn, the same for both sides.

    The past-due story, cycled; from the second round on each line carries its turn number so
    that no two texts are the same.
    """
    out = [("customer", OPENER)]
    for i in range(1, turns):
        speaker, text = CYCLE[(i - 1) % len(CYCLE)]
        out.append((speaker, text if i <= len(CYCLE) else f"{text} ({speaker} turn {i + 1})"))
    return out


def default_settings() -> Settings:
    """The eval data set (COPILOT_DATA_DIR, else var/eval-data) and the knowledge base (var/kb)."""
    data_dir = Path(os.environ.get("COPILOT_DATA_DIR") or EVAL_DATA)
    return load_settings(data_dir=data_dir)


def check_inputs(settings: Settings) -> None:
    """FileNotFoundError, saying how to make it, when the data or the knowledge base is missing."""
    data_dir = Path(settings.data_dir)
    if settings.backend == "sql" and not settings.crm_db_url and not (data_dir / "crm.db").exists():
        raise FileNotFoundError(
            f"no demo data in {data_dir}: create it with `copilot data generate --customers 2000 "
            f"--seed 42 --out {EVAL_DATA}` (or point COPILOT_DATA_DIR at a generated folder)"
        )
    if not settings.chroma_url and not (Path(settings.kb_dir) / "chroma.sqlite3").exists():
        raise FileNotFoundError(
            f"no knowledge base in {settings.kb_dir}: create it with "
            "`copilot kb ingest tools/kb/articles/brightwave`"
        )


def _events(session_id: str, turns: list[tuple[str, str]]) -> list[Event]:
    t0 = datetime(2026, 11, 24, 9, tzinfo=UTC)
    return [
        Event(
            event_id=f"{session_id}-{i}",
            session_id=session_id,
            type="utterance",
            speaker=speaker,
            channel=CHANNEL,
            text=text,
            ts=t0 + timedelta(seconds=5 * i),
        )
        for i, (speaker, text) in enumerate(turns)
    ]


def _sent(fake: FakeOpenAI, since: int) -> tuple[int, int]:
    """(requests, prompt tokens) the fake received from request number `since` on."""
    bodies = fake.requests[since:]
    return len(bodies), sum(prompt_tokens(b) for b in bodies)


def _line(message: dict[str, Any]) -> tuple[str, str] | None:
    """(speaker, text) of a conversation line as the baselines send it, else None."""
    content = message.get("content")
    if message.get("role") != "user" or not isinstance(content, str):
        return None
    speaker, sep, text = content.partition(f" ({CHANNEL}): ")
    return (speaker, text) if sep and speaker in ("customer", "agent") else None


def _fetched(messages: Sequence[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """(tool, arguments) of every tool call the model made that is in view."""
    out = []
    for m in messages:
        for call in m.get("tool_calls") or []:
            fn = call.get("function", {})
            args = fn.get("arguments") or "{}"
            out.append((str(fn.get("name")), json.loads(args) if isinstance(args, str) else args))
    return out


def baseline_calls(body: dict[str, Any]) -> list[Call]:
    """What the baselines' model fetches before it writes: whatever it needs and cannot see.

    The facts our prompt carries (profile, billing accounts, orders) unless their results are in
    view, and the knowledge passages for the recent customer lines unless that search is in view.
    A fresh transcript invocation sees no earlier result, so it fetches all four every turn; the
    agent with history finds the facts in its thread after the first turn and the search for an
    unchanged customer line after the turn that searched it, so it searches each customer turn.
    Nothing once this turn's results are in: after its tool results, the model writes.
    """
    messages = body.get("messages", [])
    if messages and messages[-1].get("role") == "tool":
        return []
    fetched = _fetched(messages)
    names = {name for name, _ in fetched}
    calls = [Call(name, {}) for name in FACT_TOOLS if name not in names]
    said = [text for speaker, text in filter(None, map(_line, messages)) if speaker == "customer"]
    searched = {str(args.get("query")) for name, args in fetched if name == SEARCH_TOOL}
    # A model writes its query about the conversation, not only its last line (which often says
    # just "it"); ours retrieves with a blend of the recent turns too.
    query = " ".join(said[-3:])[:500]
    if said and query not in searched:
        calls.append(Call(SEARCH_TOOL, {"query": query}))
    return calls


def baseline_respond(body: dict[str, Any]) -> Reply:
    """The baselines' model: fetch what `baseline_calls` finds missing, in parallel, then write."""
    calls = baseline_calls(body)
    if calls:
        return Reply(calls=calls)
    messages = body.get("messages", [])
    said = [text for speaker, text in filter(None, map(_line, messages)) if speaker == "customer"]
    summary = " ".join(" ".join(said[-3:]).split()[:80]) or "Conversation just started."
    return Reply(
        calls=[
            Call(
                WRITE_CARDS,
                {"summary": summary, "reply_draft": "Let me check that for you.", "citations": []},
            )
        ]
    )


def _finish_tool() -> BaseTool:
    """write_cards as a tool the agent runs: it ends the agent's turn (return_direct)."""

    async def write_cards(**cards: Any) -> str:
        return "cards written"

    return StructuredTool.from_function(
        coroutine=write_cards,
        name=WRITE_CARDS,
        description=str(CARDS_TOOL["function"]["description"]),
        args_schema=PanelDraft,
        return_direct=True,
    )


async def _customer_id(settings: Settings) -> str:
    from copilot.systems import build_systems
    from tools import identifiers as ids

    systems = build_systems(settings)
    try:
        found = await systems.crm.find_by_contact("phone", ids.phone(PHONE))
    finally:
        await systems.aclose()
    if not found:
        raise FileNotFoundError(
            f"{settings.data_dir} has no customer with the story phone {PHONE}: generate the "
            f"data with `copilot data generate --customers 2000 --seed 42 --out {EVAL_DATA}`"
        )
    return found[0].customer_id


async def _ours(
    engine: Engine, fake: FakeOpenAI, turns: Sequence[int], tick: Callable[[], None] | None
) -> list[tuple[int, int, int, list[int]]]:
    """Our engine over each conversation: (tokens, requests, fallbacks, tokens per turn)."""
    out = []
    try:
        for n in turns:
            session_id = f"tokens-{n}"
            per_turn: list[int] = []
            fallbacks = 0
            start = len(fake.requests)
            for event in _events(session_id, conversation(n)):
                before = len(fake.requests)
                await engine.handle(event)
                await engine.settle(session_id)  # exactly one model turn per event
                per_turn.append(_sent(fake, before)[1])
                live = engine.live(session_id)
                if live is not None and live.state.llm.status == "fallback":
                    fallbacks += 1
                if tick:
                    tick()
            requests, tokens = _sent(fake, start)
            out.append((tokens, requests, fallbacks, per_turn))
    finally:
        await engine.aclose()
        await engine.deps.systems.aclose()
    return out


def _state(messages: Sequence[AnyMessage]) -> InputAgentState:
    """The agent's input, typed as create_agent declares it."""
    return {"messages": [*messages]}


async def _baseline(
    settings: Settings,
    customer: str,
    retriever: Retriever,
    turns: Sequence[int],
    tick: Callable[[], None] | None,
    side: Side,
) -> list[tuple[int, int, list[int]]]:
    """create_agent over the same tools: (tokens, requests, tokens per turn) per conversation.

    side "transcript": a fresh invocation each turn, handed the whole transcript so far.
    side "history": one checkpointed thread per conversation, sent only the new line.
    """
    from langchain.agents import create_agent
    from langchain_core.runnables import RunnableConfig
    from langchain_openai import ChatOpenAI
    from langgraph.checkpoint.memory import InMemorySaver
    from pydantic import SecretStr

    from copilot.systems import build_systems
    from tools.toolkit import CustomerTools

    system = prompts.render(
        "copilot_system", company=COMPANY, finish_tool=WRITE_CARDS, as_json=False
    ).text
    systems = build_systems(settings)
    out = []
    http = httpx.AsyncClient(timeout=30.0)  # its own, closed below: no socket outlives the run
    try:
        with FakeOpenAI(responder=baseline_respond) as fake:
            model = ChatOpenAI(
                base_url=fake.url,
                api_key=SecretStr("x"),
                model=MODEL,
                use_responses_api=False,
                max_retries=0,
                http_async_client=http,
            )
            kit = CustomerTools(systems, customer, retriever, settings.tool_timeout_s)
            tools = kit.tools()
            missing = {*FACT_TOOLS, SEARCH_TOOL} - {t.name for t in tools}
            if missing:
                raise RuntimeError(f"the customer tools lack {sorted(missing)}")
            agent = create_agent(
                model=model,
                tools=[*tools, _finish_tool()],
                system_prompt=system,
                checkpointer=InMemorySaver() if side == "history" else None,
            )
            for n in turns:
                transcript: list[AnyMessage] = []
                per_turn: list[int] = []
                start = len(fake.requests)
                config = RunnableConfig(configurable={"thread_id": f"tokens-{n}"})
                for i, (speaker, text) in enumerate(conversation(n)):
                    line = HumanMessage(f"{speaker} ({CHANNEL}): {text}")
                    before = len(fake.requests)
                    if side == "history":
                        # Only the new line: the thread holds everything before it.
                        sent: list[AnyMessage] = [line]
                        if i == 0:
                            sent.insert(0, HumanMessage(THREAD_INSTRUCTION))
                        await agent.ainvoke(_state(sent), config)
                    else:
                        transcript.append(line)
                        await agent.ainvoke(_state([*transcript, HumanMessage(INSTRUCTION)]))
                    per_turn.append(_sent(fake, before)[1])
                    if tick:
                        tick()
                requests, tokens = _sent(fake, start)
                out.append((tokens, requests, per_turn))
    finally:
        await http.aclose()
        await systems.aclose()
    return out


def run(
    turns: Sequence[int] = TURNS,
    settings: Settings | None = None,
    tick: Callable[[], None] | None = None,
) -> list[Row]:
    """All three sides over conversations of each length, shortest first; tick() per turn."""
    base = settings or default_settings()
    check_inputs(base)
    # One model turn per event, nothing coalesced, nothing retried, no budget cut-off: the
    # figure is what a conversation of that length sends when every turn runs.
    base = base.model_copy(
        update={
            "llm_model": MODEL,
            "llm_api_key": None,
            "llm_max_retries": 0,
            "llm_coalesce_ms": 0,
            "llm_budget_tokens": 100_000_000,
        }
    )
    from copilot.runtime import build_engine

    lengths = sorted(set(turns))
    customer = asyncio.run(_customer_id(base))
    with (
        tempfile.TemporaryDirectory(prefix="tokens-bench-") as scratch,
        FakeOpenAI(responder=model_like.respond) as fake,
    ):
        engine = build_engine(
            base.model_copy(update={"llm_base_url": fake.url}),
            f"sqlite:///{Path(scratch) / 'sessions.db'}",
        )
        ours = asyncio.run(_ours(engine, fake, lengths, tick))
    # The same knowledge base, read through the engine's retriever (one embedder loaded): the
    # baselines' search_knowledge exists only when their tools are given it.
    retriever = engine.deps.retriever
    if retriever is None:
        raise RuntimeError("the engine was built without a retriever: no knowledge to compare")
    transcript = asyncio.run(_baseline(base, customer, retriever, lengths, tick, "transcript"))
    history = asyncio.run(_baseline(base, customer, retriever, lengths, tick, "history"))
    return [
        Row(
            turns=n,
            ours=o[0],
            transcript=t[0],
            history=h[0],
            ours_requests=o[1],
            transcript_requests=t[1],
            history_requests=h[1],
            ours_fallbacks=o[2],
            ours_per_turn=o[3],
            transcript_per_turn=t[2],
            history_per_turn=h[2],
        )
        for n, o, t, h in zip(lengths, ours, transcript, history, strict=True)
    ]


def linearity(rows: list[Row], side: Side) -> float:
    """Mean tokens per turn at the longest conversation over that at the shortest (1.0: linear)."""
    first, last = rows[0], rows[-1]
    return last.mean(side) / first.mean(side) if first.total(side) else 0.0


def verdicts(rows: list[Row]) -> list[tuple[str, bool, str]]:
    """(target, met, what was measured): linearity, then the 40-turn target per baseline."""
    out = []
    growth = linearity(rows, "ours")
    others = ", ".join(f"{LABELS[b]} {linearity(rows, b):.2f}x" for b in BASELINES)
    out.append(
        (
            f"ours grows linearly: tokens/turn at {rows[-1].turns} turns within "
            f"{LINEAR_WITHIN:g}x of those at {rows[0].turns}",
            growth <= LINEAR_WITHIN,
            f"{growth:.2f}x ({others})",
        )
    )
    at, factor = FEWER_AT
    row = next((r for r in rows if r.turns == at), None)
    if row is not None:
        for b in BASELINES:
            out.append(
                (
                    f"at least {factor:g}x fewer prompt tokens than the {LABELS[b]} at {at} turns",
                    row.fewer(b) >= factor,
                    f"{row.fewer(b):.2f}x fewer ({row.ours:,} vs {row.total(b):,})",
                )
            )
    return out


MARKS: dict[Side, tuple[str, str]] = {
    "ours": ("ours", "#"),
    "transcript": ("transcript", "="),
    "history": ("history", "*"),
}


def legend() -> str:
    return ", ".join(f"{mark} {name}" for name, mark in MARKS.values())


def chart(rows: list[Row], width: int = 50) -> list[str]:
    """Total prompt tokens per conversation length, all three sides, as bars on one scale."""
    top = max(r.total(s) for r in rows for s in SIDES) or 1
    lines = []
    for r in rows:
        for side in SIDES:
            name, mark = MARKS[side]
            value = r.total(side)
            bar = mark * max(1, round(width * value / top))
            lines.append(f"{r.turns:>4} turns {name:<10} {bar} {value:,}")
    return lines


def curve(row: Row, points: int = 9) -> list[tuple[int, int, int, int]]:
    """(turn, ours, transcript, history) prompt tokens of single turns along one conversation."""
    n = row.turns
    marks = sorted({1, n, *(round(1 + k * (n - 1) / (points - 1)) for k in range(points))})
    return [
        (t, row.ours_per_turn[t - 1], row.transcript_per_turn[t - 1], row.history_per_turn[t - 1])
        for t in marks
    ]
