"""A fake OpenAI-compatible chat server on loopback, for tests, evals and benchmarks.

The real openai client and LangChain talk HTTP to it. It records every request body, counts
tokens with tiktoken the way an endpoint reports usage, streams (SSE) when asked, and answers
from a script: a queue of replies (it fails on an unexpected call) or a responder function,
such as `copilot.testing.model_like.respond`, which answers the copilot's prompts as a model would.
"""

from __future__ import annotations

import json
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from tools.kb.tokens import count


@dataclass
class Call:
    """One tool call in a reply; args may be a raw string to send malformed JSON."""

    name: str
    args: dict[str, Any] | str


@dataclass
class Reply:
    """What the fake answers to one request."""

    text: str = ""
    calls: list[Call] = field(default_factory=list)
    status: int = 200  # 429 or 5xx to fail the request
    delay_s: float = 0.0  # sleep first: longer than the client's timeout makes a timeout
    repeat_names: bool = False  # every streamed delta names the call again (llama-cpp-python)


Responder = Callable[[dict[str, Any]], Reply]


def prompt_tokens(body: dict[str, Any]) -> int:
    """Tokens of what was sent: every message's text and tool calls, and the tool schemas."""
    parts = []
    for message in body.get("messages", []):
        content = message.get("content")
        parts.append(content if isinstance(content, str) else json.dumps(content))
        if message.get("tool_calls"):
            parts.append(json.dumps(message["tool_calls"]))
    if body.get("tools"):
        parts.append(json.dumps(body["tools"]))
    return count("\n".join(p for p in parts if p)) + 4 * len(body.get("messages", []))


class FakeOpenAI:
    """Start with `with FakeOpenAI(...) as fake:`; fake.url is the base URL (ending in /v1)."""

    def __init__(
        self,
        script: list[Reply] | None = None,
        responder: Responder | None = None,
        refuse_null_content: bool = False,
        json_schema: bool = True,
        named_choice: bool = True,
    ):
        """refuse_null_content: answer 500 to an assistant message with `content: null` and
        tool calls, as llama-cpp-python's server does, before reading the script.
        json_schema: follow a `response_format` JSON Schema by writing the scripted call's
        arguments as the message text (as OpenAI, vLLM, llama.cpp do); False answers 400.
        named_choice: False answers an object `tool_choice` with llama.cpp's 400."""
        self.refuse_null_content = refuse_null_content
        self.json_schema = json_schema
        self.named_choice = named_choice
        self.refused = 0
        self.script: deque[Reply] = deque(script or [])
        self.responder = responder
        self.requests: list[dict[str, Any]] = []
        self.unexpected: list[str] = []
        self.completion_tokens = 0
        self._lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the fake is not started: use it in a with block")
        return f"http://127.0.0.1:{self._server.server_port}/v1"

    @property
    def prompt_tokens(self) -> int:
        return sum(prompt_tokens(b) for b in self.requests)

    def __enter__(self) -> FakeOpenAI:
        fake = self
        handler = type("Handler", (_Handler,), {"fake": fake})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def assert_done(self) -> None:
        """Fail when a scripted reply was never asked for, or a request came unscripted."""
        if self.unexpected:
            raise AssertionError(f"unexpected requests: {self.unexpected}")
        if self.script:
            raise AssertionError(f"{len(self.script)} scripted replies were never used")

    def next_reply(self, body: dict[str, Any]) -> Reply | None:
        with self._lock:
            self.requests.append(body)
            if self.script:
                return self.script.popleft()
            if self.responder is not None:
                return self.responder(body)
            self.unexpected.append(str(body.get("messages", [{}])[-1].get("content", ""))[:80])
            return None


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "fake-model", "object": "model"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))) or b"{}")
        if self.fake.refuse_null_content and any(
            m.get("role") == "assistant" and m.get("content") is None and m.get("tool_calls")
            for m in body.get("messages", [])
        ):
            with self.fake._lock:
                self.fake.refused += 1
            self._json(500, {"error": {"message": "None is not of type 'string'"}})
            return
        refusal = self._refusal(body)
        if refusal is not None:
            with self.fake._lock:
                self.fake.requests.append(body)
            self._json(400, {"error": {"message": refusal, "type": "invalid_request_error"}})
            return
        reply = self.fake.next_reply(body)
        if reply is not None and _schema_name(body):
            reply = _as_json(reply, _schema_name(body))
        if reply is None:
            self._json(500, {"error": {"message": "unexpected request: nothing scripted"}})
            return
        if reply.delay_s:
            time.sleep(reply.delay_s)
        if reply.status != 200:
            headers = {"retry-after-ms": "10"} if reply.status == 429 else {}
            self._json(reply.status, {"error": {"message": f"scripted {reply.status}"}}, headers)
            return
        completion = count(reply.text + "".join(_args(c) for c in reply.calls))
        with self.fake._lock:
            self.fake.completion_tokens += completion
        usage = {
            "prompt_tokens": prompt_tokens(body),
            "completion_tokens": completion,
            "total_tokens": prompt_tokens(body) + completion,
        }
        if body.get("stream"):
            self._stream(body, reply, usage)
        else:
            self._json(200, _completion(body, reply, usage))

    def _refusal(self, body: dict[str, Any]) -> str | None:
        if _schema_name(body) and not self.fake.json_schema:
            return "response_format type 'json_schema' is not supported by this server"
        if isinstance(body.get("tool_choice"), dict) and not self.fake.named_choice:
            return "Wrong type supplied for parameter 'tool_choice'"
        return None

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def _stream(self, body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Connection", "close")
        self.end_headers()
        for delta in _deltas(reply):
            self._event(_chunk(body, delta, None))
        reason = "tool_calls" if reply.calls else "stop"
        self._event(_chunk(body, {}, reason))
        if body.get("stream_options", {}).get("include_usage"):
            self._event({**_chunk(body, {}, None), "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()
        self.close_connection = True

    def _event(self, payload: dict[str, Any]) -> None:
        self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
        self.wfile.flush()


def _schema_name(body: dict[str, Any]) -> str:
    """The name of the JSON Schema the request constrains the answer to; "" when none."""
    wanted = body.get("response_format") or {}
    if not isinstance(wanted, dict) or wanted.get("type") != "json_schema":
        return ""
    return str((wanted.get("json_schema") or {}).get("name") or "answer")


def _as_json(reply: Reply, name: str) -> Reply:
    """A scripted call of the schema's name written as the answer's text instead."""
    call = next((c for c in reply.calls if c.name == name), None)
    if call is None:
        return reply
    return Reply(text=_args(call), status=reply.status, delay_s=reply.delay_s)


def _args(call: Call) -> str:
    return call.args if isinstance(call.args, str) else json.dumps(call.args)


def _pieces(text: str, size: int = 24) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _deltas(reply: Reply) -> Iterator[dict[str, Any]]:
    yield {"role": "assistant", "content": ""}
    for piece in _pieces(reply.text):
        yield {"content": piece}
    for index, call in enumerate(reply.calls):
        yield {
            "tool_calls": [
                {
                    "index": index,
                    "id": f"call_{index}_{call.name}",
                    "type": "function",
                    "function": {"name": call.name, "arguments": ""},
                }
            ]
        }
        for piece in _pieces(_args(call)):
            again = (
                {"id": f"call_{index}_{call.name}", "type": "function"}
                if reply.repeat_names
                else {}
            )
            named = {"name": call.name} if reply.repeat_names else {}
            yield {
                "tool_calls": [{"index": index, **again, "function": {**named, "arguments": piece}}]
            }


def _chunk(body: dict[str, Any], delta: dict[str, Any], reason: str | None) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 0,
        "model": body.get("model", "fake-model"),
        "choices": [{"index": 0, "delta": delta, "finish_reason": reason}],
    }


def _completion(body: dict[str, Any], reply: Reply, usage: dict[str, int]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
    if reply.calls:
        message["tool_calls"] = [
            {
                "id": f"call_{i}_{c.name}",
                "type": "function",
                "function": {"name": c.name, "arguments": _args(c)},
            }
            for i, c in enumerate(reply.calls)
        ]
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": 0,
        "model": body.get("model", "fake-model"),
        "choices": [
            {
                "index": 0,
                "message": message,
                "finish_reason": "tool_calls" if reply.calls else "stop",
            }
        ],
        "usage": usage,
    }
