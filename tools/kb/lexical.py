"""BM25 over the live collection's passages (bm25s), rebuilt when the live collection changes."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import bm25s
import numpy as np
from bm25s.stopwords import STOPWORDS_EN
from bm25s.tokenization import Tokenizer


@dataclass
class LexicalIndex:
    """Passages in collection order; search returns (position, score) best first, score > 0."""

    ids: list[str]
    texts: list[str]
    metadatas: list[dict[str, object]]
    tokenizer: Tokenizer = field(default_factory=lambda: Tokenizer(stopwords="en"))
    bm25: bm25s.BM25 = field(default_factory=bm25s.BM25)

    def __post_init__(self) -> None:
        if self.texts:
            tokens = self.tokenizer.tokenize(self.texts, return_as="ids", show_progress=False)
            self.bm25.index(tokens, show_progress=False)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        if not self.texts or not query.strip():
            return []
        q = self.tokenizer.tokenize(
            [query], update_vocab=False, return_as="ids", show_progress=False
        )
        k = min(k, len(self.texts))
        docs, scores = self.bm25.retrieve(q, k=k, show_progress=False, n_threads=1)
        return [
            (int(d), float(s))
            for d, s in zip(np.ravel(docs), np.ravel(scores), strict=True)
            if s > 0
        ]


_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?")
_STOP = frozenset(STOPWORDS_EN)


def terms(text: str) -> set[str]:
    """Content words: lower-case, stop words dropped, a plural 's' folded into its singular."""
    out = set()
    for word in _WORD.findall(text.lower()):
        if word in _STOP or len(word) < 2:
            continue
        out.add(
            word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word
        )
    return out
