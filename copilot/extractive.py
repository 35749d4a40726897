"""Extractive prose summary of a conversation: the customer's problem and the agent's answer.

Sentences are scored by how central they are to the conversation (TF-IDF cosine to the whole)
and by position: the problem tends to come early, the resolution late.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass

_NOISE = re.compile(r"(@\w+|https?://\S+|\^\w+$|\s\*\w+$)")
_SPLIT = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9@#\"'(])")
_WORD = re.compile(r"[a-z0-9']+")
_STOP = frozenset(
    """
a an and are as at be but by for from has have i if in is it its me my of on or so that the this
to was we were will with you your our us can do not no yes just please thanks thank hi hello hey
dm
""".split()  # noqa: SIM905
)


@dataclass(frozen=True)
class Weights:
    """How much position counts against centrality; chosen on the tweetsumm dev split."""

    customer_position: float = 0.8
    agent_position: float = 0.4
    customer_sentences: int = 1
    agent_sentences: int = 1


def clip(text: str, limit: int) -> str:
    """One line of at most `limit` characters, cut with an ellipsis."""
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def clean(text: str) -> str:
    return " ".join(_NOISE.sub(" ", text).split())


def _tf(text: str) -> Counter[str]:
    return Counter(w for w in _WORD.findall(text.lower()) if w not in _STOP)


def _cosine(a: Counter[str], b: Counter[str], idf: dict[str, float]) -> float:
    dot = sum(a[w] * b[w] * idf.get(w, 1.0) ** 2 for w in a if w in b)
    na = math.sqrt(sum((c * idf.get(w, 1.0)) ** 2 for w, c in a.items()))
    nb = math.sqrt(sum((c * idf.get(w, 1.0)) ** 2 for w, c in b.items()))
    return dot / (na * nb) if na and nb else 0.0


def summarize(turns: list[tuple[str, str]], weights: Weights | None = None) -> str:
    """Best customer sentence(s), then best agent sentence(s), in conversation order."""
    w = weights or Weights()
    sentences: list[tuple[int, str, str]] = []
    for i, (speaker, text) in enumerate(turns):
        for s in _SPLIT.split(clean(text)):
            if len(_WORD.findall(s.lower())) >= 3:
                sentences.append((i, "customer" if speaker == "customer" else "agent", s))
    if not sentences:
        return ""
    docs = [_tf(s) for _, _, s in sentences]
    df = Counter(word for d in docs for word in d)
    idf = {word: math.log((1 + len(docs)) / (1 + n)) + 1 for word, n in df.items()}
    whole = sum(docs, Counter())
    last = max(i for i, _, _ in sentences) or 1
    chosen: list[int] = []
    for role, count, pull in (
        ("customer", w.customer_sentences, w.customer_position),
        ("agent", w.agent_sentences, w.agent_position),
    ):
        ranked = []
        for k, (turn, speaker, _) in enumerate(sentences):
            if speaker != role:
                continue
            place = turn / last
            position = 1 - place if role == "customer" else place
            ranked.append((_cosine(docs[k], whole, idf) + pull * position, k))
        chosen += [k for _, k in sorted(ranked, reverse=True)[:count]]
    return " ".join(sentences[k][2] for k in sorted(chosen))


def lead(turns: list[tuple[str, str]], n: int = 2) -> str:
    """The Lead-n baseline: the first n sentences of the conversation."""
    out: list[str] = []
    for _, text in turns:
        for s in _SPLIT.split(clean(text)):
            if s and len(out) < n:
                out.append(s)
    return " ".join(out)
