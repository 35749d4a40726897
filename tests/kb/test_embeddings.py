"""The embedder's kept token states and an encoder tail over them: the same vectors, one pass."""

from __future__ import annotations

import numpy as np
import pytest

from tools.kb.embeddings import Embedder, EncoderTail

TEXTS = [
    "ok",
    "My internet has been down since Tuesday and nobody has fixed it.",
    "What time does the store on Elm Road open on Saturday, and do you sell chargers there?",
]


def _own_top_layers(embedder: Embedder, start: int) -> dict[str, np.ndarray]:
    return {
        name: value.numpy()
        for name, value in embedder.model.state_dict().items()
        if any(f".encoder.layer.{i}." in name for i in range(start, embedder.layers))
    }


def test_kept_states_change_no_vector_and_a_tail_of_the_base_weights_matches() -> None:
    plain, keeping = Embedder(), Embedder()
    tail = EncoderTail(keeping, _own_top_layers(keeping, 4))  # asks keeping to keep layer 4
    assert tail.start == 4
    expected = np.asarray(plain.embed(TEXTS))
    assert np.allclose(np.asarray(keeping.embed(TEXTS)), expected, atol=1e-5)
    # The states come from the memo that embed() filled, not from a second pass...
    kept = keeping.states(TEXTS, 4)
    assert all(a is b for a, b in zip(kept, keeping.states(TEXTS, 4), strict=True))
    assert [int(s.shape[0]) for s in kept] == sorted(int(s.shape[0]) for s in kept)
    # ... and the base model's own top layers over them give the base model's vectors.
    assert np.allclose(np.asarray(tail.embed_states(kept)), expected, atol=1e-5)
    # A text embed() never saw is run up to the layer on demand, with the same result.
    fresh = "Thanks, that fixed it!"
    assert np.allclose(tail.embed([fresh]), plain.embed([fresh]), atol=1e-5)


def test_a_layer_outside_the_model_is_refused(embedder: Embedder) -> None:
    for layer in (0, embedder.layers, 99):
        with pytest.raises(ValueError, match=f"no layer {layer}"):
            embedder.keep_states(layer)
