"""Next-best-action on the ABCD sample conversations: the suggested next action beside the gold one.

At every action turn the tracker sees only the turns before it and suggests the next step of a
playbook built from kb.json; the suggestion counts when its action is the one the agent took.
The playbook is the gold subflow's (oracle intent) or the subflow a zero-shot classifier picks
from the customer's words so far: all-MiniLM-L6-v2 nearest to each subflow's guidelines text, and
in a second variant first among the subflows whose sequence covers most of the actions taken so
far. Nothing is fitted on the conversations: they are the test set. The baselines know kb.json
but no subflow: its most frequent action, and the most frequent action after the previous one.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from copilot.playbooks import Facts, PlaybookSet, track
from evals.abcd import ROOT, AbcdConversation, Subflow, Turn, conversations, load_playbooks
from evals.abcd import subflows as read_subflows
from evals.bench.foundation import Figure
from tools.kb.embeddings import Embedder

START = "<start>"
METHODS = ("gold", "predicted", "trail", "majority", "bigram")


def facts_before(turns: tuple[Turn, ...], index: int) -> Facts:
    """What the tracker may know just before turn `index`: earlier actions and utterances."""
    facts = Facts()
    for i, turn in enumerate(turns[:index]):
        event = f"t{i}"
        if turn.action is not None:
            facts.actions[turn.action] = event
        elif turn.speaker == "agent":
            facts.agent_turns.append((event, turn.text))
        elif turn.speaker == "customer":
            facts.customer_turns.append((event, turn.text))
    return facts


class SubflowClassifier:
    """Zero-shot: the subflow whose guidelines description is nearest to the customer's words."""

    def __init__(self, subs: list[Subflow], embedder: Embedder) -> None:
        self.subs = subs
        self.embedder = embedder
        self.vectors = np.asarray(embedder.embed([s.description for s in subs]))

    def predict(self, customer: list[str], done: set[str], trail: bool) -> str | None:
        """None before the customer has said anything; `trail` prefers sequences covering `done`."""
        if not customer:
            return None
        query = np.asarray(self.embedder.embed([" ".join(customer)]))[0]
        cosines = self.vectors @ query
        cover = [len(done & set(s.actions)) if trail else 0 for s in self.subs]
        best = max(range(len(self.subs)), key=lambda k: (cover[k], cosines[k]))
        return self.subs[best].key


def kb_baselines(subs: list[Subflow]) -> tuple[str, dict[str, str]]:
    """The most frequent action, and per action the most frequent one after it, over kb.json."""
    unigram = Counter(a for s in subs for a in s.actions)
    after: dict[str, Counter[str]] = {}
    for s in subs:
        for prev, nxt in zip((START, *s.actions), s.actions, strict=False):
            after.setdefault(prev, Counter())[nxt] += 1

    def top(counts: Counter[str]) -> str:
        return max(counts, key=lambda a: (counts[a], unigram[a], a))

    return top(unigram), {prev: top(counts) for prev, counts in after.items()}


def _suggest(playbooks: PlaybookSet, subflow: str | None, facts: Facts) -> str | None:
    playbook = playbooks.for_intent(subflow)
    if playbook is None:
        return None
    step = track(playbook, facts).next
    return step.uses if step is not None else None


def _analysis(convo: AbcdConversation, sequence: tuple[str, ...]) -> dict[str, Any]:
    """Where the agent left the kb.json sequence: extra actions, repeats, order, skipped steps."""
    taken = [t for t in convo.turns if t.action is not None]
    done = [t.action for t in taken if t.action in sequence]
    positions = [sequence.index(a) for a in dict.fromkeys(done)]
    last = max(positions, default=-1)
    return {
        "off_kb": [(t.action, list(t.slots)) for t in taken if t.action not in sequence],
        "repeats": sorted(a for a, n in Counter(t.action for t in taken).items() if n > 1),
        "out_of_order": positions != sorted(positions),
        "skipped": [a for a in sequence[:last] if a not in done],
    }


def run(root: Path = ROOT, embedder: Embedder | None = None) -> dict[str, Any]:
    """Every figure of the benchmark, measured in one run."""
    subs = read_subflows(root)
    playbooks = load_playbooks(root)
    convos = conversations(root)
    classifier = SubflowClassifier(subs, embedder or Embedder())
    sequences = {s.key: s.actions for s in subs}
    majority, bigram = kb_baselines(subs)
    turns: list[dict[str, Any]] = []
    per_convo = []
    for convo in convos:
        mine = []
        prev = START
        for i, turn in enumerate(convo.turns):
            if turn.action is None:
                continue
            facts = facts_before(convo.turns, i)
            said = [text for _, text in facts.customer_turns]
            base = bigram.get(prev, majority)
            row: dict[str, Any] = {"gold_action": turn.action, "slots": list(turn.slots), "turn": i}
            row["subflow"] = {
                "predicted": classifier.predict(said, set(facts.actions), trail=False),
                "trail": classifier.predict(said, set(facts.actions), trail=True),
            }
            row["suggested"] = {
                "gold": _suggest(playbooks, convo.subflow, facts),
                **{
                    m: _suggest(playbooks, row["subflow"][m], facts) if said else base
                    for m in ("predicted", "trail")
                },
                "majority": majority,
                "bigram": base,
            }
            mine.append(row)
            prev = turn.action
        turns += mine
        per_convo.append(
            {
                "convo_id": convo.convo_id,
                "subflow": convo.subflow,
                "turns": len(mine),
                "correct": {
                    m: sum(r["suggested"][m] == r["gold_action"] for r in mine) for m in METHODS
                },
                "rows": mine,
                **_analysis(convo, sequences[convo.subflow]),
            }
        )
    n = len(turns)
    return {
        "root": str(root),
        "subflows": len(subs),
        "playbooks": len(playbooks.playbooks),
        "conversations": len(convos),
        "action_turns": n,
        "majority_action": majority,
        "model": classifier.embedder.name,
        "accuracy": {
            m: sum(r["suggested"][m] == r["gold_action"] for r in turns) / n for m in METHODS
        },
        "subflow_accuracy": {
            m: sum(r["subflow"][m] == c["subflow"] for c in per_convo for r in c["rows"]) / n
            for m in ("predicted", "trail")
        },
        "per_conversation": per_convo,
    }


def figures(result: dict[str, Any]) -> list[Figure]:
    """Next-action accuracy (micro, in %) per way of choosing the playbook, beside kb baselines."""
    acc = {m: 100 * v for m, v in result["accuracy"].items()}
    sub = {m: 100 * v for m, v in result["subflow_accuracy"].items()}
    bigram = "kb.json bigram"
    return [
        Figure("next, gold subflow", acc["gold"], "%", bigram, acc["bigram"], "oracle"),
        Figure(
            "next, gold subflow",
            acc["gold"],
            "%",
            f"always {result['majority_action']}",
            acc["majority"],
            "",
        ),
        Figure("next, zero-shot subflow", acc["predicted"], "%", bigram, acc["bigram"], ""),
        Figure("next, zero-shot + trail", acc["trail"], "%", bigram, acc["bigram"], ""),
        Figure(
            "subflow, zero-shot + trail",
            sub["trail"],
            "%",
            "zero-shot alone",
            sub["predicted"],
            f"of {result['subflows']}, at action turns",
        ),
    ]


def notes(result: dict[str, Any]) -> list[str]:
    """Counts, per-conversation scores and where the agents left the kb.json sequences."""
    convos = result["per_conversation"]
    n = result["action_turns"]
    lines = [
        f"{n} gold action turns in {result['conversations']} conversations (deduplicated by "
        f"convo_id); {result['playbooks']} playbooks from {result['subflows']} subflows; "
        f"one turn is {100 / n:.1f} points: indicative, not significant",
        "per conversation, correct of action turns (gold subflow / zero-shot / + trail / bigram):",
    ]
    for c in convos:
        scores = " / ".join(str(c["correct"][m]) for m in ("gold", "predicted", "trail", "bigram"))
        subs = [s for s in dict.fromkeys(r["subflow"]["trail"] for r in c["rows"]) if s]
        lines.append(
            f"  {c['convo_id']} {c['subflow']}: {scores} of {c['turns']}; "
            f"zero-shot + trail chose {' then '.join(subs) or '-'}"
        )
    off = [f"{c['convo_id']} {a} {s}" for c in convos for a, s in c["off_kb"]]
    lines.append(f"gold actions outside the gold subflow's sequence: {'; '.join(off) or 'none'}")
    misses = [
        f"{c['convo_id']} turn {r['turn']} {r['gold_action']} {r['slots']} "
        f"(suggested {r['suggested']['gold']})"
        for c in convos
        for r in c["rows"]
        if r["suggested"]["gold"] != r["gold_action"]
    ]
    lines.append(f"gold-subflow misses: {'; '.join(misses) or 'none'}")
    skipped = [f"{c['convo_id']} {', '.join(c['skipped'])}" for c in convos if c["skipped"]]
    order = [str(c["convo_id"]) for c in convos if c["out_of_order"]]
    repeats = [f"{c['convo_id']} {a}" for c in convos for a in c["repeats"]]
    lines.append(
        f"kb steps skipped before a later one: {'; '.join(skipped) or 'none'}; "
        f"order differs from kb.json: {', '.join(order) or 'none'}; "
        f"repeated actions: {', '.join(repeats) or 'none'}"
    )
    return lines
