"""The LangChain tool loop: data tools when the facts are not enough, then one forced finish call.

Small local models often call no tool or answer in malformed JSON; the loop forces the named
finish tool, feeds a malformed call back once, and otherwise gives up cleanly so the offline
cards stand. Every call is counted, logged with its prompt version, and capped per conversation.
"""

from __future__ import annotations

import asyncio
import copy
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import httpx
from langchain_core.language_models import BaseChatModel
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langchain_core.tools import BaseTool
from langchain_core.utils.json import parse_partial_json
from pydantic import BaseModel, ValidationError

import prompts
from copilot.actions import PREPARED_KINDS
from copilot.llm.brief import Brief
from copilot.llm.calls import calls_in_text, deduplicated, has_tool_turns, plain
from copilot.llm.drafts import (
    ANSWER,
    ANSWER_TOOL,
    WRITE_CARDS,
    AnswerDraft,
    PanelDraft,
    cards_tool,
    lean_tool,
)
from copilot.llm.endpoint import Capabilities, response_format
from copilot.llm.ledger import CallLedger
from copilot.llm.notes import Tally
from copilot.llm.policy import ACTION_USES, Owner, Verdict, check, check_answer
from copilot.llm.provider import LlmConfig
from copilot.pii import RedactionPolicy, redact
from tools.kb.tokens import count

OnToken = Callable[[str, str], Awaitable[None]]
D = TypeVar("D", bound=BaseModel)
MAX_TOOL_ROUNDS = 3
# What one turn's look-ups may add to the prompt. A small local model's context is a few
# thousand tokens (llama-server's default 4,096): three rounds of full tool results overflowed
# it (an 8,734-token request, refused with HTTP 400), and each token costs prompt time on CPU.
TOOL_RESULT_CHARS = 2_000
TOOL_TURN_CHARS = 6_000
STREAMED = ("reply_draft", "summary", "answer")
OUTGOING = RedactionPolicy(mask_emails=True, mask_phones=True)


class Fallback(Exception):
    """The model path gave up; the offline cards stand and the panel says why."""


@dataclass
class TurnResult:
    status: str  # ok | partial | fallback
    reason: str | None
    prompt: str
    tally: Tally
    verdict: Verdict | None = None
    answer: str | None = None
    citations: list[str] = field(default_factory=list)


@dataclass
class ToolBox:
    """The scoped data tools for this turn, and the passages they returned (for citations)."""

    tools: list[BaseTool] = field(default_factory=list)
    passages: Callable[[], set[str]] = set


def _safe(text: str) -> str:
    return redact(text, OUTGOING).text


def _clip(text: str, limit: int = TOOL_RESULT_CHARS) -> str:
    if len(text) <= limit:
        return text
    return f"{text[:limit]} … (cut: {len(text) - limit} more characters)"


def _usage(message: AIMessageChunk, messages: list[BaseMessage], specs: list[Any]) -> Tally:
    meta = message.usage_metadata
    if meta:
        return Tally(1, int(meta.get("input_tokens", 0)), int(meta.get("output_tokens", 0)))
    # The endpoint did not report usage: count what was sent and received ourselves.
    sent = json.dumps([m.content for m in messages], default=str) + json.dumps(specs)
    got = str(message.content) + json.dumps(message.tool_call_chunks, default=str)
    return Tally(1, count(sent), count(got))


class Orchestrator:
    """One per process; holds the chat model, the config and the call ledger."""

    def __init__(
        self,
        model: BaseChatModel,
        config: LlmConfig,
        ledger: CallLedger | None = None,
        company: str = "Brightwave Mobile",
    ) -> None:
        self.model = model
        self.config = config
        self.ledger = ledger
        self.company = company
        self.endpoint = Capabilities.for_mode(config.structured)
        self._plain = False  # the server refused tool-call turns once: keep to plain ones

    def spent(self, session_id: str) -> Tally:
        return self.ledger.spent(session_id) if self.ledger else Tally()

    async def write_cards(
        self,
        brief: Brief,
        box: ToolBox,
        owner: Owner | None,
        event_id: str,
        on_token: OnToken | None = None,
    ) -> TurnResult:
        """One turn: the model writes the cards, policy checks each piece."""
        user = prompts.render("turn", **brief.variables())
        kinds = {
            kind
            for kind, uses in ACTION_USES.items()
            if uses in brief.open_uses and (kind in brief.prepared or kind not in PREPARED_KINDS)
        }
        searchable = any(t.name == "search_knowledge" for t in box.tools)
        spec = cards_tool(
            brief.offer[0] if brief.offer else None,
            kinds if brief.customer_id else set(),
            brief.open_steps,
            None if searchable else [p[0] for p in brief.passages],
        )
        result = await self._run(
            brief, box, user, WRITE_CARDS, PanelDraft, spec, event_id, "cards", on_token
        )
        if isinstance(result, TurnResult):
            return result
        draft, tally = result
        verdict = await check(draft, brief, box.passages(), owner)
        status = "partial" if verdict.rejected else "ok"
        reason = "; ".join(f"{k}: {v}" for k, v in verdict.rejected.items()) or None
        return TurnResult(
            status,
            reason,
            user.ref,
            tally,
            verdict=verdict,
        )

    async def answer(
        self,
        brief: Brief,
        question: str,
        box: ToolBox,
        event_id: str,
        on_token: OnToken | None = None,
    ) -> TurnResult:
        """The agent's own question ("ask the copilot"), answered from facts and tools."""
        user = prompts.render("ask", question=_safe(question), **brief.variables())
        result = await self._run(
            brief, box, user, ANSWER, AnswerDraft, ANSWER_TOOL, event_id, "ask", on_token
        )
        if isinstance(result, TurnResult):
            return result
        draft, tally = result
        text, why = check_answer(draft, brief, box.passages())
        return TurnResult(
            "ok" if text else "fallback",
            why or None,
            user.ref,
            tally,
            answer=text,
            citations=draft.citations if text else [],
        )

    async def _run(
        self,
        brief: Brief,
        box: ToolBox,
        user: prompts.Rendered,
        finish: str,
        shape: type[D],
        spec: dict[str, Any],
        event_id: str,
        purpose: str,
        on_token: OnToken | None,
    ) -> tuple[D, Tally] | TurnResult:
        tally = Tally()
        spent = self.spent(brief.session_id)
        if spent.total >= self.config.budget_tokens:
            reason = f"token budget reached ({spent.total} of {self.config.budget_tokens})"
            return TurnResult("fallback", reason, user.ref, tally)
        system = prompts.render(
            "copilot_system",
            company=self.company,
            finish_tool=finish,
            as_json=self.endpoint.json_schema is not False,
        )
        messages: list[BaseMessage] = [
            SystemMessage(_safe(system.text)),
            HumanMessage(_safe(user.text)),
        ]
        deadline = self.config.timeout_s * (self.config.max_retries + 1) * (MAX_TOOL_ROUNDS + 2)
        outcome, detail = "ok", None
        try:
            draft = await asyncio.wait_for(
                self._loop(messages, box, finish, shape, spec, tally, on_token), deadline
            )
            return draft, tally
        except Fallback as exc:
            outcome, detail = "fallback", str(exc)
        except TimeoutError:
            outcome, detail = "fallback", f"the model did not finish within {deadline:.0f} s"
        except (httpx.HTTPError, OSError, ValueError) as exc:
            outcome, detail = "fallback", f"model error: {type(exc).__name__}: {exc}"
        except Exception as exc:  # openai's APIError family and anything a provider raises
            outcome, detail = "fallback", _describe(exc)
        finally:
            tally.cost_usd = self.config.cost(tally.prompt_tokens, tally.completion_tokens)
            if self.ledger is not None:
                self.ledger.record(
                    brief.session_id,
                    event_id,
                    purpose,
                    user.ref,
                    self.config.model,
                    tally,
                    outcome,
                    detail,
                )
        return TurnResult("fallback", detail, user.ref, tally)

    async def _loop(
        self,
        messages: list[BaseMessage],
        box: ToolBox,
        finish: str,
        shape: type[D],
        spec: dict[str, Any],
        tally: Tally,
        on_token: OnToken | None,
    ) -> D:
        by_name = {t.name: t for t in box.tools}
        lookups = [lean_tool(t) for t in box.tools]
        force = False
        repaired = False
        fed = 0  # characters of tool results in the prompt
        for round_no in range(MAX_TOOL_ROUNDS + 2):
            force = force or round_no >= MAX_TOOL_ROUNDS or not box.tools
            reply, as_json = await self._ask(
                messages, lookups, spec, finish, force, tally, on_token
            )
            if as_json:  # the cards as a schema-constrained JSON object in the text
                text = str(reply.content)
                try:
                    return shape.model_validate_json(_json_part(text))
                except ValidationError as exc:
                    if repaired:
                        fitted = _fit(shape, _loads(_json_part(text)), exc)
                        if fitted is not None:
                            return fitted
                        raise Fallback(f"malformed {finish} JSON twice: {_errors(exc)}") from None
                    repaired = True
                    messages.append(AIMessage(content=text))
                    fix = prompts.render("repair", tool=finish, problem=_errors(exc), as_call=False)
                    messages.append(HumanMessage(fix.text))
                    continue
            if not reply.tool_calls and not reply.invalid_tool_calls:
                written = calls_in_text(str(reply.content), {*by_name, finish})
                if written:  # the call as JSON in the text (llama.cpp): the same call
                    reply = AIMessage(
                        content="", tool_calls=written, usage_metadata=reply.usage_metadata
                    )
            done = [c for c in reply.tool_calls if c["name"] == finish]
            broken = [c for c in reply.invalid_tool_calls if c.get("name") == finish]
            problem: str | None = None
            if done:
                try:
                    return shape.model_validate(done[0]["args"])
                except ValidationError as exc:
                    problem = _errors(exc)
                    fitted = _fit(shape, done[0]["args"], exc) if repaired else None
                    if fitted is not None:
                        return fitted
            elif broken:
                problem = (
                    f"the arguments are not valid JSON ({broken[0].get('error') or 'parse error'})"
                )
            elif reply.tool_calls or reply.invalid_tool_calls:
                messages.append(reply)
                for call in reply.tool_calls:
                    tool = by_name.get(call["name"])
                    if tool is None:
                        content = (
                            f"error: no tool named {call['name']!r}; use one of {sorted(by_name)}"
                        )
                    else:
                        out = await tool.ainvoke(call)
                        content = _clip(str(getattr(out, "content", out)))
                    fed += len(content)
                    messages.append(ToolMessage(_safe(content), tool_call_id=call["id"] or ""))
                for bad in reply.invalid_tool_calls:
                    messages.append(
                        ToolMessage(
                            f"error: arguments of {bad.get('name')} are not valid JSON",
                            tool_call_id=bad.get("id") or "",
                        )
                    )
                force = force or fed >= TOOL_TURN_CHARS  # enough looked up: write the cards now
                continue
            else:
                parsed = _from_text(str(reply.content), shape)
                if parsed is not None:
                    return parsed
                force = True  # it answered in prose: ask again, forcing the finish tool
                continue
            if repaired:
                raise Fallback(f"malformed {finish} call twice: {problem}")
            repaired = force = True
            call_id = (done or broken)[0].get("id") or ""
            messages.append(reply)
            # Said as the next request will ask: a JSON object where the endpoint takes one.
            as_call = self.endpoint.json_schema is False
            fix = prompts.render("repair", tool=finish, problem=problem, as_call=as_call)
            messages.append(ToolMessage(fix.text, tool_call_id=call_id))
        raise Fallback(f"no {finish} call after {MAX_TOOL_ROUNDS + 2} rounds")

    async def _ask(
        self,
        messages: list[BaseMessage],
        lookups: list[dict[str, Any]],
        spec: dict[str, Any],
        finish: str,
        force: bool,
        tally: Tally,
        on_token: OnToken | None,
    ) -> tuple[AIMessage, bool]:
        """One model request, asked the way this endpoint takes it. Where it follows a JSON
        Schema response format, the finish is that (look-ups alone are tools); else the finish
        is a tool too, forced by name (else "required"). A refusal of a way is learned and the
        request asked the other way; a 5xx on tool-call turns is retried as plain turns
        (llama-cpp-python refuses LangChain's content-null shape), and those stay plain."""
        known = self.endpoint
        for _ in range(3):
            schema = known.json_schema is not False
            as_json = force and schema
            named = force and not as_json and known.named_choice is not False
            specs = lookups if schema else [*lookups, spec]
            bound: Any
            if as_json:
                bound = self.model.bind(response_format=response_format(finish, spec))
            else:
                choice = (finish if named else "required") if force else "auto"
                bound = self.model.bind_tools(specs, tool_choice=choice)
            if self._plain:
                messages[:] = plain(messages)
            # A free round (look-ups offered, nothing forced) whose answer is neither a known
            # call nor the cards is stopped early: the cards are asked for next anyway.
            keep = frozenset() if force else frozenset({finish, *(_name(t) for t in lookups)})
            try:
                sent = [spec] if as_json else specs
                reply = await self._stream(bound, messages, sent, finish, tally, on_token, keep)
                return reply, as_json
            except Exception as exc:  # openai's APIStatusError family, after its own retries
                if known.learn(exc, asked_schema=as_json, asked_named=named):
                    continue
                if self._plain or not has_tool_turns(messages) or _status(exc) < 500:
                    raise
                self._plain = True
        raise Fallback("the endpoint refused every way of asking for the cards")

    async def _stream(
        self,
        bound: Any,
        messages: list[BaseMessage],
        specs: list[Any],
        finish: str,
        tally: Tally,
        on_token: OnToken | None,
        keep: frozenset[str] = frozenset(),
    ) -> AIMessage:
        acc: AIMessageChunk | None = None
        shown: dict[str, int] = {}
        stream = bound.astream(messages)
        try:
            async for chunk in stream:
                acc = chunk if acc is None else acc + deduplicated(acc, chunk)
                if keep and _going_nowhere(acc, keep):
                    break  # closing the stream stops the server generating (llama.cpp does)
                if on_token is not None:
                    await _emit(acc, finish, shown, on_token)
        finally:
            await stream.aclose()
        if acc is None:
            raise Fallback("the model sent an empty response")
        tally.add(_usage(acc, messages, specs))
        return AIMessage(
            content=acc.content,
            tool_calls=acc.tool_calls,
            invalid_tool_calls=acc.invalid_tool_calls,
            usage_metadata=acc.usage_metadata,
        )


async def _emit(acc: AIMessageChunk, finish: str, shown: dict[str, int], on_token: OnToken) -> None:
    """Stream the growing prose fields of the finish call (or of the JSON answer) as deltas."""
    sources = [c["args"] for c in acc.tool_call_chunks if c.get("name") == finish and c.get("args")]
    if not acc.tool_call_chunks and isinstance(acc.content, str) and "{" in acc.content:
        sources.append(acc.content[acc.content.index("{") :])
    for source in sources:
        try:
            args = parse_partial_json(source or "{}")
        except (ValueError, TypeError):
            return
        if not isinstance(args, dict):
            return
        for key in STREAMED:
            text = args.get(key)
            if isinstance(text, str) and len(text) > shown.get(key, 0):
                await on_token(key, text[shown.get(key, 0) :])
                shown[key] = len(text)


PROSE_CHARS = 240
_NAMED = re.compile(r'"name"\s*:\s*"([^"]*)"')


def _name(tool: dict[str, Any]) -> str:
    return str(tool.get("function", {}).get("name", ""))


def _going_nowhere(acc: AIMessageChunk, keep: frozenset[str]) -> bool:
    """A free round's answer that can only be thrown away: prose, or a call written in the text
    of a tool that does not exist (a 1.5B model writes {"name": "update_summary", ...})."""
    if acc.tool_call_chunks or not isinstance(acc.content, str):
        return False
    text = acc.content
    start = text.find("{")
    if start < 0:  # a sentence before the JSON is common ("Here you go: {...}"); a page is not
        return len(text) >= PROSE_CHARS
    named = _NAMED.search(text[start : start + 300])
    return named is not None and named.group(1) not in keep


def _json_part(content: str) -> str:
    """The object in a JSON answer, without the ```json fences some models add anyway."""
    start, end = content.find("{"), content.rfind("}")
    return content[start : end + 1] if 0 <= start < end else content


def _from_text(content: str, shape: type[D]) -> D | None:
    """A model that answered with JSON in its text instead of a tool call."""
    start, end = content.find("{"), content.rfind("}")
    if start < 0 or end <= start:
        return None
    try:
        return shape.model_validate_json(content[start : end + 1])
    except ValidationError:
        return None


_TOO_LONG = frozenset({"string_too_long", "too_long"})


def _loads(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return None


def _fit(shape: type[D], data: Any, exc: ValidationError) -> D | None:
    """Asked once to keep within the bounds and still over them: the answer with each over-long
    text cut at its last sentence (else word) within the bound, each list at its bound, rather
    than the turn lost; None when anything else is wrong with it."""
    if not isinstance(data, dict) or any(e["type"] not in _TOO_LONG for e in exc.errors()):
        return None
    fixed = copy.deepcopy(data)
    for error in exc.errors():
        *path, last = error["loc"]
        node: Any = fixed
        for key in path:
            node = node[key]
        limit = int((error.get("ctx") or {}).get("max_length", 0))
        value = node[last]
        node[last] = _cut(value, limit) if isinstance(value, str) else value[:limit]
    try:
        return shape.model_validate(fixed)
    except ValidationError:
        return None


def _cut(text: str, limit: int) -> str:
    head = text[:limit]
    end = max(head.rfind(". "), head.rfind("! "), head.rfind("? "))
    if end >= limit // 3:
        return head[: end + 1]
    space = head.rfind(" ", 0, limit - 1)
    return (head[:space] if space > 0 else head[: limit - 1]).rstrip(" ,;") + "…"


def _errors(exc: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'arguments'}: {e['msg']}" for e in exc.errors()[:5]
    )


def _status(exc: Exception) -> int:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else 0


def _describe(exc: Exception) -> str:
    status = getattr(exc, "status_code", None)
    name = type(exc).__name__
    if status is not None:
        return f"model endpoint answered HTTP {status} ({name}) after retries"
    return f"model error: {name}: {str(exc)[:200]}"
