"""The embed batcher: concurrent sessions share forward passes and get their own vectors back."""

from __future__ import annotations

import asyncio

import numpy as np
import pytest

from copilot.batching import EmbedBatcher
from tools.kb.embeddings import Embedder

LINES = [
    "My bill is higher than usual this month.",
    "I want to return the headphones I ordered.",
    "Can I upgrade my data plan?",
    "The router keeps dropping the connection.",
    "Please cancel my autopay.",
    "Where is my order?",
]


def test_concurrent_requests_share_passes_and_get_their_own_vectors(embedder: Embedder) -> None:
    batcher = EmbedBatcher(embedder)

    async def run() -> list[list[np.ndarray]]:
        return await asyncio.gather(*(batcher.embed([line]) for line in LINES))

    got = asyncio.run(run())
    alone = embedder.embed(LINES)
    for rows, expected in zip(got, alone, strict=True):
        assert len(rows) == 1
        assert np.allclose(rows[0], expected, atol=1e-5)
    assert batcher.texts == len(LINES)
    # All six are asked for before the first pass starts: one forward pass serves them all.
    assert batcher.passes == 1


def test_a_request_of_several_texts_keeps_its_order_and_the_batch_cap(embedder: Embedder) -> None:
    batcher = EmbedBatcher(embedder, max_batch=4)

    async def run() -> tuple[list[np.ndarray], ...]:
        return await asyncio.gather(
            batcher.embed(LINES[:3]), batcher.embed(LINES[3:5]), batcher.embed(LINES[5:])
        )

    first, second, third = asyncio.run(run())
    alone = embedder.embed(LINES)
    assert [len(first), len(second), len(third)] == [3, 2, 1]
    for row, expected in zip([*first, *second, *third], alone, strict=True):
        assert np.allclose(row, expected, atol=1e-5)
    assert batcher.passes == 2  # 3 + 2 is over the cap: the first pass takes 3, the next 2 + 1


class _Broken(Embedder):
    def embed(self, texts: object) -> list[list[float]]:
        raise RuntimeError("model file is corrupt")


def test_a_failed_pass_reaches_every_waiter_and_the_next_pass_still_runs(
    embedder: Embedder,
) -> None:
    batcher = EmbedBatcher(_Broken())

    async def run() -> list[object]:
        return await asyncio.gather(  # type: ignore[no-any-return]
            *(batcher.embed([line]) for line in LINES[:3]), return_exceptions=True
        )

    outcomes = asyncio.run(run())
    assert all(isinstance(o, RuntimeError) for o in outcomes)
    batcher.embedder = embedder
    rows = asyncio.run(batcher.embed([LINES[0]]))  # a new loop: the batcher starts afresh
    assert np.allclose(rows[0], embedder.embed([LINES[0]])[0], atol=1e-5)


def test_nothing_to_embed_costs_no_pass(embedder: Embedder) -> None:
    batcher = EmbedBatcher(embedder)
    assert asyncio.run(batcher.embed([])) == []
    assert batcher.passes == 0


@pytest.mark.parametrize("size", [1, 2])
def test_a_lone_request_starts_at_once(embedder: Embedder, size: int) -> None:
    batcher = EmbedBatcher(embedder)
    rows = asyncio.run(batcher.embed(LINES[:size]))
    assert len(rows) == size and batcher.passes == 1
