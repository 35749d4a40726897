"""What an OpenAI-compatible endpoint accepts, learned once instead of failing every turn.

Cards are written as a JSON object constrained by `response_format` (OpenAI, vLLM, llama.cpp and
Ollama all take a JSON Schema there), which grammar engines follow more reliably than a forced
tool call; look-ups stay tool calls. A server that refuses the schema, or an object
`tool_choice` (llama.cpp: "Wrong type supplied for parameter 'tool_choice'"), answers 400 once;
the orchestrator notes it here and asks the other way from then on. `copilot doctor` probes the
same things up front and prints them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any, Literal

import httpx

Mode = Literal["auto", "json_schema", "tools"]
PROBE = "capability_probe"
_PROBE_SCHEMA = {
    "type": "object",
    "properties": {"ok": {"type": "boolean"}},
    "required": ["ok"],
}
_CHOICE_WORDS = ("tool_choice",)
_FORMAT_WORDS = ("response_format", "json_schema", "grammar", "schema", "not supported")


@dataclass
class Capabilities:
    """None: not known yet (the first use tells); False: refused, do not ask that way again."""

    json_schema: bool | None = None
    named_choice: bool | None = None

    @classmethod
    def for_mode(cls, mode: Mode) -> Capabilities:
        """The operator's COPILOT_LLM_STRUCTURED: tools skips the schema; auto learns."""
        if mode == "tools":
            return cls(json_schema=False)
        if mode == "json_schema":
            return cls(json_schema=True)
        return cls()

    def learn(self, exc: Exception, asked_schema: bool, asked_named: bool) -> bool:
        """Note a refusal of what was asked; True when asking the other way may succeed."""
        if _status(exc) not in (400, 404, 415, 422, 501):
            return False
        text = _message(exc).lower()
        if asked_schema and self.json_schema is not False and any(w in text for w in _FORMAT_WORDS):
            self.json_schema = False
            return True
        if asked_named and self.named_choice is not False and any(w in text for w in _CHOICE_WORDS):
            self.named_choice = False
            return True
        return False


def response_format(name: str, spec: dict[str, Any]) -> dict[str, Any]:
    """The finish tool's parameters as a JSON Schema response format (not strict: optional
    fields stay optional, which OpenAI's strict mode would forbid)."""
    return {
        "type": "json_schema",
        "json_schema": {"name": name, "schema": spec["function"]["parameters"], "strict": False},
    }


@dataclass(frozen=True)
class Found:
    """What `copilot doctor` printed about one feature."""

    feature: str
    ok: bool
    detail: str


def detect(base_url: str, model: str, headers: dict[str, str], timeout_s: float) -> list[Found]:
    """Ask the endpoint for a schema-constrained answer and for a named tool call, once each."""
    tool = {
        "type": "function",
        "function": {"name": PROBE, "description": "Report ok.", "parameters": _PROBE_SCHEMA},
    }
    asks: dict[str, dict[str, Any]] = {
        "structured output (response_format json_schema)": {
            "response_format": response_format(PROBE, tool),
        },
        "named tool_choice": {
            "tools": [tool],
            "tool_choice": {"type": "function", "function": {"name": PROBE}},
        },
    }
    found: list[Found] = []
    with httpx.Client(base_url=base_url, headers=headers, timeout=timeout_s) as http:
        for feature, extra in asks.items():
            body = {
                "model": model,
                "messages": [{"role": "user", "content": 'Answer {"ok": true}.'}],
                "max_tokens": 24,
                **extra,
            }
            try:
                reply = http.post("/chat/completions", json=body)
            except httpx.HTTPError as exc:
                found.append(Found(feature, False, f"no answer: {type(exc).__name__}"))
                continue
            found.append(_judge(feature, reply))
    return found


def _judge(feature: str, reply: httpx.Response) -> Found:
    if reply.status_code != 200:
        body = reply.text[:160].replace("\n", " ")
        return Found(feature, False, f"refused: HTTP {reply.status_code} {body}")
    try:
        message = reply.json()["choices"][0]["message"]
    except (ValueError, KeyError, IndexError, TypeError):
        return Found(feature, False, "answered without a message")
    if feature.startswith("structured"):
        try:
            value = json.loads(message.get("content") or "")
        except json.JSONDecodeError:
            return Found(feature, False, "accepted, but the answer is not JSON (ignored)")
        if isinstance(value, dict) and "ok" in value:
            return Found(feature, True, "followed: cards are written as a JSON object")
        return Found(feature, False, "accepted, but the answer does not follow the schema")
    calls = message.get("tool_calls") or []
    if any(c.get("function", {}).get("name") == PROBE for c in calls):
        return Found(feature, True, "followed: a native tool call came back")
    return Found(
        feature, False, "accepted but not enforced (no tool call came back; calls read from text)"
    )


def _status(exc: Exception) -> int:
    status = getattr(exc, "status_code", None)
    return status if isinstance(status, int) else 0


def _message(exc: Exception) -> str:
    body = getattr(exc, "body", None)
    return f"{exc} {json.dumps(body, default=str) if body is not None else ''}"
