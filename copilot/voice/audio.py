"""Telephone audio to what Whisper reads: G.711 mu-law or 16-bit PCM, as 16 kHz float32."""

from __future__ import annotations

import math
from functools import cache

import numpy as np
import numpy.typing as npt

RATE = 16_000  # what Whisper reads
RATES = frozenset({8_000, 16_000})  # telephone and wideband bridges
Samples = npt.NDArray[np.float32]
_BIAS = 0x84
_CLIP = 32_635


@cache
def _mulaw_table() -> npt.NDArray[np.int16]:
    # ITU-T G.711: the byte is sent inverted; sign, 3-bit exponent, 4-bit mantissa.
    u = ~np.arange(256, dtype=np.uint8)
    exponent = (u >> 4) & 0x07
    mantissa = u & 0x0F
    magnitude = (((mantissa.astype(np.int32) << 3) + _BIAS) << exponent) - _BIAS
    return np.where(u & 0x80, -magnitude, magnitude).astype(np.int16)


def mulaw_decode(payload: bytes) -> npt.NDArray[np.int16]:
    """G.711 mu-law bytes as 16-bit linear samples."""
    return _mulaw_table()[np.frombuffer(payload, dtype=np.uint8)]


def mulaw_encode(samples: npt.NDArray[np.int16]) -> bytes:
    """16-bit linear samples as G.711 mu-law bytes (what a phone network sends)."""
    x = samples.astype(np.int32)
    sign = np.where(x < 0, 0x80, 0x00)
    magnitude = np.minimum(np.abs(x), _CLIP) + _BIAS
    exponent = np.floor(np.log2(magnitude)).astype(np.int32) - 7
    exponent = np.clip(exponent, 0, 7)
    mantissa = (magnitude >> (exponent + 3)) & 0x0F
    return bytes((~(sign | (exponent << 4) | mantissa) & 0xFF).astype(np.uint8).tobytes())


def pcm16_decode(payload: bytes) -> npt.NDArray[np.int16]:
    """Little-endian 16-bit PCM bytes (audio/l16 as bridges send it) as samples."""
    usable = len(payload) - len(payload) % 2
    return np.frombuffer(payload[:usable], dtype="<i2").astype(np.int16)


def to_float(samples: npt.NDArray[np.int16]) -> Samples:
    return (samples.astype(np.float32) / 32_768.0).astype(np.float32)


def resample(samples: Samples, rate: int, to: int = RATE) -> Samples:
    """A whole utterance at another rate, through a polyphase filter.

    Once per utterance, not per 20 ms frame: filtering frame by frame leaves clicks at every
    edge, and at 8 kHz Whisper needs all the band there is (linear interpolation lost words).
    """
    if rate == to or samples.size == 0:
        return samples
    from scipy.signal import resample_poly

    step = math.gcd(rate, to)
    return np.asarray(resample_poly(samples, to // step, rate // step), dtype=np.float32)
