"""One forward pass for many sessions: utterances that arrive while the model runs wait together.

A MiniLM forward pass on this CPU costs ~12 ms for one sentence and ~42 ms for sixteen, so under
load, embedding each session's line on its own spends the cores on per-call overhead and queues
the rest behind it. The batcher runs one pass at a time off the event loop; whatever arrived
during it goes into the next pass. An idle engine pays nothing: a lone request starts at once.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from tools.kb.embeddings import Embedder

MAX_BATCH = 32  # beyond this a pass takes longer than the requests it would save


@dataclass
class _Request:
    texts: list[str]
    done: asyncio.Future[list[np.ndarray]]


@dataclass
class EmbedBatcher:
    """Embeds texts for concurrent callers, coalescing them into shared forward passes."""

    embedder: Embedder
    max_batch: int = MAX_BATCH
    passes: int = 0  # forward passes run, for the metrics and the tests
    texts: int = 0  # texts embedded in them
    _pending: list[_Request] = field(default_factory=list)
    _worker: asyncio.Task[None] | None = None
    _loop: asyncio.AbstractEventLoop | None = None

    async def embed(self, texts: Sequence[str]) -> list[np.ndarray]:
        if not texts:
            return []
        loop = asyncio.get_running_loop()
        if loop is not self._loop:
            # Futures belong to one loop: a new loop (a test, a restarted server) starts afresh.
            self._loop, self._pending, self._worker = loop, [], None
        request = _Request(list(texts), loop.create_future())
        self._pending.append(request)
        if self._worker is None or self._worker.done():
            self._worker = loop.create_task(self._drain())
        return await request.done

    async def _drain(self) -> None:
        while self._pending:
            batch: list[_Request] = []
            size = 0
            while self._pending and (
                not batch or size + len(self._pending[0].texts) <= self.max_batch
            ):
                request = self._pending.pop(0)
                batch.append(request)
                size += len(request.texts)
            flat = [text for request in batch for text in request.texts]
            try:
                rows = await asyncio.to_thread(self.embedder.embed, flat)
            except Exception as exc:  # every waiter of the pass hears of it, not just one
                for request in batch:
                    if not request.done.done():
                        request.done.set_exception(exc)
                continue
            self.passes += 1
            self.texts += len(flat)
            start = 0
            for request in batch:
                end = start + len(request.texts)
                if not request.done.done():
                    request.done.set_result([np.asarray(row) for row in rows[start:end]])
                start = end
