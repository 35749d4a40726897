"""BM25 over the live collection's passages (bm25s), rebuilt when the live collection changes."""

from __future__ import annotations

from dataclasses import dataclass, field

import bm25s
import numpy as np
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

    def terms(self, text: str) -> set[str]:
        """The content words of text as this index sees them (stop words dropped, stemmed)."""
        words = self.tokenizer.tokenize(
            [text], update_vocab=False, return_as="string", show_progress=False
        )
        return {w for w in words[0] if w}
