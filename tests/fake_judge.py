"""A scripted judge behind a real OpenAI-compatible HTTP endpoint on loopback.

It answers ragas' JSON prompts by rule, from the prompt's own input: statements are sentences,
a statement is supported when most of its words are in the context, a rubric score is higher
when the response shares words with the conversation. Deterministic, so tests can assert on it.
"""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

WORD = re.compile(r"[a-z0-9]{3,}")


def _words(text: str) -> set[str]:
    return set(WORD.findall(text.lower()))


def _input(prompt: str) -> dict[str, Any]:
    tail = prompt.rsplit("input: ", 1)[-1]
    return dict(json.JSONDecoder().raw_decode(tail)[0])


def answer(prompt: str) -> dict[str, Any]:
    given = _input(prompt)
    if "answer" in given and "question" in given:
        sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", given["answer"]) if s.strip()]
        return {"statements": sentences}
    if "statements" in given and "context" in given:
        context = _words(str(given["context"]))
        verdicts = []
        for statement in given["statements"]:
            words = _words(statement)
            supported = bool(words) and len(words & context) / len(words) >= 0.5
            verdicts.append(
                {"statement": statement, "reason": "word overlap", "verdict": int(supported)}
            )
        return {"statements": verdicts}
    if set(given) == {"response"}:
        return {"question": f"What about {given['response'][:80]}?", "noncommittal": 0}
    if "response" in given:
        shared = _words(str(given["response"])) & _words(str(given.get("user_input", "")))
        return {"feedback": f"{len(shared)} shared words", "score": min(5, 1 + len(shared))}
    return {}


class _Handler(BaseHTTPRequestHandler):
    requests: list[dict[str, Any]]

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.requests.append(body)
        content = json.dumps(answer(body["messages"][-1]["content"]))
        out = {
            "id": "fake",
            "object": "chat.completion",
            "created": 0,
            "model": body.get("model", "judge"),
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": content},
                }
            ],
            "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
        }
        data = json.dumps(out).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@contextmanager
def fake_judge() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """Base URL of a running fake judge, and the requests it received."""
    requests: list[dict[str, Any]] = []
    handler = type("Handler", (_Handler,), {"requests": requests})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1", requests
    finally:
        server.shutdown()
        server.server_close()
