"""Answers the copilot's prompts the way a careful model would, by reading them.

It follows the prompt's own lists: the step marked [next], the allowed offer, the first retrieved
passage, the facts. It searches the knowledge base before answering an agent's question. It
never reads instructions from the transcript. Deterministic, so evals and benchmarks can use it.
"""

from __future__ import annotations

import json
import re
from typing import Any

from copilot.testing.fake_openai import Call, Reply

_STEP = re.compile(r"^- step (\S+) \[(\w+)\]: (.+)$", re.M)
_NEXT = re.compile(r"^Next step: (\S+) \(uses ([^)]+)\): (.+)$", re.M)
_OFFER = re.compile(r"^- offer (\S+): (.+?)\. Why: (.+)$", re.M)
_PASSAGE = re.compile(r"^- passage (\S+) \(", re.M)
_ACCOUNT = re.compile(r"^- account (BA\d+):", re.M)
USES_TO_ACTION = {
    "billing.update_autopay": "update_autopay",
    "billing.take_payment": "take_payment",
    "billing.credit_late_fee": "waive_late_fee",
}


def _block(prompt: str, title: str) -> str:
    match = re.search(rf"^{re.escape(title)}[^\n]*\n(.*?)(?:\n\n|\Z)", prompt, re.M | re.S)
    return match.group(1).strip() if match else ""


def _names(body: dict[str, Any]) -> list[str]:
    """The tools offered, and the name of the JSON Schema the answer must follow."""
    names = [t["function"]["name"] for t in body.get("tools", [])]
    wanted = body.get("response_format") or {}
    if isinstance(wanted, dict) and wanted.get("type") == "json_schema":
        names.append(str((wanted.get("json_schema") or {}).get("name")))
    return names


def _first_words(text: str, n: int) -> str:
    words = text.split()
    return " ".join(words[:n]) + ("..." if len(words) > n else "")


def cards(prompt: str) -> dict[str, Any]:
    """A write_cards call for a turn prompt."""
    previous = _block(prompt, "PREVIOUS SUMMARY")
    turns = [t for t in _block(prompt, "NEW TURNS SINCE THAT SUMMARY").splitlines() if ": " in t]
    said = [t.split(": ", 1)[1] for t in turns if t.startswith("customer")]
    summary = "" if previous.startswith("(none yet") else previous
    if said:
        summary = f"{summary} Customer: {_first_words(said[-1], 25)}".strip()
    summary = _first_words(summary, 80)
    facts = [f[2:] for f in _block(prompt, "FACTS").splitlines() if f.startswith("- ")]
    out: dict[str, Any] = {"summary": summary or "Conversation just started.", "citations": []}
    nxt = _NEXT.search(prompt)
    if nxt:
        step, uses, say = nxt.groups()
        evidence = next((f for f in facts if ":" in f and not f.startswith("customer")), "")
        out["next_action"] = {
            "step_id": step,
            "rationale": f"Next in the playbook{': ' + evidence if evidence else ''}.",
        }
        out["reply_draft"] = _first_words(say, 50)
        account = _ACCOUNT.search(prompt)
        if uses in USES_TO_ACTION and account:
            out["actions"] = [
                {
                    "kind": USES_TO_ACTION[uses],
                    "arguments": {"account_number": account.group(1)},
                    "why": f"the {step} step",
                }
            ]
    offer = _OFFER.search(prompt)
    if offer:
        offer_id, title, why = offer.groups()
        out["offer"] = {"offer_id": offer_id, "pitch": f"{title}: {_first_words(why, 30)}"}
    passage = _PASSAGE.search(_block(prompt, "KNOWLEDGE"))
    if passage:
        out["citations"] = [passage.group(1)]
    return out


def _tool_results(body: dict[str, Any]) -> list[str]:
    return [str(m.get("content")) for m in body.get("messages", []) if m.get("role") == "tool"]


def answer(body: dict[str, Any], prompt: str) -> Reply:
    """Search first, then answer from what came back."""
    question = prompt.rsplit("THE AGENT ASKS:", 1)[-1].split("\n", 1)[0].strip()
    results = _tool_results(body)
    if "search_knowledge" in _names(body) and not results:
        return Reply(calls=[Call("search_knowledge", {"query": question[:200] or "help"})])
    passages: list[dict[str, Any]] = []
    for result in results:
        try:
            found = json.loads(result)
        except json.JSONDecodeError:
            continue
        if isinstance(found, list):
            passages += [p for p in found if isinstance(p, dict) and "passage_id" in p]
    if passages:
        top = passages[0]
        text = f"{top['title']}: {_first_words(str(top.get('text', '')), 40)}"
        return _finish(body, "answer_agent", {"answer": text, "citations": [top["passage_id"]]})
    return _finish(body, "answer_agent", {"answer": "I found nothing on that.", "citations": []})


def _finish(body: dict[str, Any], name: str, args: dict[str, Any]) -> Reply:
    """The finish as a call where it is offered (a tool, or the schema the answer follows);
    else as the JSON object alone, as the system prompt then asks."""
    if name in _names(body):
        return Reply(calls=[Call(name, args)])
    return Reply(text=json.dumps(args))


def respond(body: dict[str, Any]) -> Reply:
    """The responder for FakeOpenAI: a model that reads the copilot's prompts."""
    users = [m for m in body.get("messages", []) if m.get("role") == "user"]
    prompt = str(users[0].get("content", "")) if users else ""
    names = _names(body)
    if "THE AGENT ASKS:" in prompt:
        return answer(body, prompt)
    if "NEW TURNS SINCE THAT SUMMARY" in prompt:
        return _finish(body, "write_cards", cards(prompt))
    if "capability_probe" in names:  # what `copilot doctor` asks: answer as told
        return Reply(calls=[Call("capability_probe", {"ok": True})])
    return Reply(text="ok")
