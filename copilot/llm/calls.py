"""Tool calls as local model servers send them, made into the one shape the loop reads.

llama.cpp's `llama-server` often writes a call as JSON in the message text, in ```json fences
and wrapped as {"name": ..., "arguments": {...}}; llama-cpp-python's server repeats the call's
name and id in every streamed delta, which LangChain's chunk addition concatenates into
"write_cardswrite_cards". Both become ordinary tool calls here, before the loop looks at them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    BaseMessage,
    HumanMessage,
    ToolMessage,
)
from langchain_core.messages.tool import ToolCall, ToolCallChunk

_FENCE = re.compile(r"```[a-zA-Z]*\s*(.*?)```", re.S)
ARGUMENT_KEYS = ("arguments", "parameters", "args")


def _objects(text: str) -> list[Any]:
    """Every top-level JSON value in the text: fenced blocks first, then bare ones."""
    decoder = json.JSONDecoder()
    found: list[Any] = []
    for source in [*(m.group(1) for m in _FENCE.finditer(text)), _FENCE.sub(" ", text)]:
        at = 0
        while (start := _next_start(source, at)) >= 0:
            try:
                value, end = decoder.raw_decode(source, start)
            except json.JSONDecodeError:
                at = start + 1
                continue
            found.append(value)
            at = end
    return found


def _next_start(text: str, at: int) -> int:
    starts = [i for i in (text.find("{", at), text.find("[", at)) if i >= 0]
    return min(starts) if starts else -1


def _call(value: Any, names: set[str], n: int) -> ToolCall | None:
    if not isinstance(value, dict):
        return None
    function = value.get("function")
    inner: dict[str, Any] = function if isinstance(function, dict) else value
    name = inner.get("name")
    if not isinstance(name, str) or name not in names:
        return None
    args: Any = next((inner[k] for k in ARGUMENT_KEYS if k in inner), {})
    if isinstance(args, str):  # OpenAI's own shape: the arguments as a JSON string
        try:
            args = json.loads(args)
        except json.JSONDecodeError:
            return None
    if not isinstance(args, dict):
        return None
    return ToolCall(name=name, args=args, id=f"text_call_{n}", type="tool_call")


def calls_in_text(text: str, names: set[str]) -> list[ToolCall]:
    """The calls of known tools the text writes out, in order; [] when it writes none."""
    calls: list[ToolCall] = []
    for value in _objects(text):
        for item in value if isinstance(value, list) else [value]:
            call = _call(item, names, len(calls))
            if call is not None:
                calls.append(call)
    return calls


def deduplicated(acc: AIMessageChunk | None, chunk: AIMessageChunk) -> AIMessageChunk:
    """The chunk without a name or id its call already has: added to acc, nothing doubles."""
    if acc is None or not chunk.tool_call_chunks:
        return chunk
    known = {c.get("index"): c for c in acc.tool_call_chunks}
    fixed: list[ToolCallChunk] = []
    changed = False
    for part in chunk.tool_call_chunks:
        seen: dict[str, Any] = dict(known.get(part.get("index")) or {})
        repeats = {k for k in ("name", "id") if part.get(k) and part.get(k) == seen.get(k)}
        if repeats:
            changed = True
            part = ToolCallChunk(  # noqa: PLW2901 - the same part, less what repeats
                name=None if "name" in repeats else part.get("name"),
                args=part.get("args"),
                id=None if "id" in repeats else part.get("id"),
                index=part.get("index"),
                type="tool_call_chunk",
            )
        fixed.append(part)
    if not changed:
        return chunk
    return AIMessageChunk(
        content=chunk.content,
        tool_call_chunks=fixed,
        usage_metadata=chunk.usage_metadata,
        response_metadata=chunk.response_metadata,
        id=chunk.id,
    )


def plain(messages: list[BaseMessage]) -> list[BaseMessage]:
    """The conversation with its tool exchanges as plain text turns: what every server takes.

    For a server that refuses a message shape (llama-cpp-python answers 500 to an assistant
    message with `content: null` and tool calls, which LangChain sends); tried once.
    """
    out: list[BaseMessage] = []
    for m in messages:
        if isinstance(m, AIMessage) and m.tool_calls:
            said = [f"I called {c['name']} with {json.dumps(c['args'])}." for c in m.tool_calls]
            out.append(AIMessage(content=" ".join([str(m.content), *said]).strip()))
        elif isinstance(m, ToolMessage):
            out.append(HumanMessage(content=f"The result of that call: {m.content}"))
        else:
            out.append(m)
    return out


def has_tool_turns(messages: list[BaseMessage]) -> bool:
    return any(isinstance(m, ToolMessage) for m in messages)
