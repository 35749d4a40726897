"""Split articles by headings into chunks within a token budget, with overlap between them."""

from __future__ import annotations

import re

from tools.kb.models import Article, Chunk
from tools.kb.tokens import count

MAX_TOKENS = 220
OVERLAP_TOKENS = 40
_SENTENCE = re.compile(r"(?<=[.!?])\s+(?=[A-Z0-9\"'(])|\n{2,}|\n(?=\s*(?:[-*]|\d+\.)\s)")


def sentences(text: str) -> list[str]:
    """Sentences and list items, whitespace tidied."""
    return [" ".join(s.split()) for s in _SENTENCE.split(text) if s and s.strip()]


def _pack(parts: list[str], budget: int, overlap: int) -> list[str]:
    """Greedy packing of sentences into windows, each starting with ~overlap tokens of the last."""
    windows: list[str] = []
    current: list[tuple[str, int]] = []
    size = 0
    for part in parts:
        n = count(part)
        if n > budget:  # one enormous sentence: cut it by words
            words = part.split()
            step = max(1, len(words) * budget // n)
            for i in range(0, len(words), step):
                pieces = " ".join(words[i : i + step])
                windows.extend(_pack([pieces], budget, 0) if count(pieces) <= budget else [pieces])
            continue
        if current and size + n > budget:
            windows.append(" ".join(p for p, _ in current))
            carry: list[tuple[str, int]] = []
            kept = 0
            for p, k in reversed(current):
                if kept + k > overlap:
                    break
                carry.insert(0, (p, k))
                kept += k
            current, size = carry, kept
        current.append((part, n))
        size += n
    if current:
        windows.append(" ".join(p for p, _ in current))
    return windows


def chunk_article(
    article: Article, max_tokens: int = MAX_TOKENS, overlap: int = OVERLAP_TOKENS
) -> list[Chunk]:
    """Chunks that never cross a heading, each carrying the article's citation fields."""
    chunks: list[Chunk] = []
    for section in article.sections:
        path = " > ".join(p for p in section.path if p)
        for text in _pack(sentences(section.text), max_tokens, overlap):
            position = len(chunks)
            chunks.append(
                Chunk(
                    id=f"{article.id}#{position}",
                    article_id=article.id,
                    title=article.title,
                    section=path,
                    url=article.url,
                    position=position,
                    text=text,
                    tokens=count(text),
                    product=article.product,
                    channel=article.channel,
                    locale=article.locale,
                    tags=article.tags,
                    content_hash=article.content_hash,
                    script="\n".join(article.script) if position == 0 else "",
                )
            )
    return chunks


def indexed_text(chunk: Chunk) -> str:
    """What retrieval sees: the passage with its title and headings, which carry much meaning."""
    heading = f"{chunk.title}. {chunk.section}." if chunk.section else f"{chunk.title}."
    return f"{heading}\n\n{chunk.text}"
