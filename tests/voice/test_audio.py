"""The pieces under a call, without a server: G.711, the detector, spoken digits, the keypad."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from copilot.pii import RedactionPolicy
from copilot.voice.audio import mulaw_decode, mulaw_encode, resample, to_float
from copilot.voice.call import keypad
from copilot.voice.digits import spoken_digits
from copilot.voice.model import model_folder
from copilot.voice.vad import Segmenter
from tools.errors import ConfigurationError


def test_mulaw_matches_g711() -> None:
    # Reference points of the G.711 table: silence, the extremes, a mid code.
    codes = bytes([0xFF, 0x7F, 0x80, 0x00, 0xFE, 0xEF])
    assert mulaw_decode(codes).tolist() == [0, 0, 32124, -32124, 8, 132]
    tone = (np.sin(np.arange(800) / 5) * 12_000).astype(np.int16)
    back = mulaw_decode(mulaw_encode(tone)).astype(np.int32)
    assert np.max(np.abs(back - tone)) <= 512  # half a step of the coarsest segment


def test_resampling_keeps_the_length_in_time() -> None:
    assert resample(np.zeros(8000, np.float32), 8000).size == 16000


def test_the_detector_cuts_turns_at_silence() -> None:
    rate = 8000
    voiced = to_float((np.sin(np.arange(rate * 2) / 3) * 8000).astype(np.int16))
    quiet = np.zeros(rate, np.float32)
    seg = Segmenter(rate=rate)
    pieces = seg.feed(np.concatenate([quiet, voiced, quiet, voiced[: rate // 2], quiet]))
    finals = [p for p in pieces if p.final]
    assert [(round(p.start_s, 1), round(p.end_s, 1)) for p in finals] == [(0.8, 3.0), (3.8, 4.5)]
    assert [p for p in pieces if not p.final], "a two-second turn has a partial"
    # A click is no turn.
    assert seg.feed(np.concatenate([voiced[:400], quiet])) == [] and seg.flush() == []


def test_no_partial_is_cut_once_the_speaker_pauses() -> None:
    """A partial in the quiet before a final would transcribe what the final is about to, and
    hold the one transcriber when the final comes: the end of speech reaches the panel later."""
    rate = 8000
    voiced = to_float((np.sin(np.arange(int(rate * 1.75)) / 3) * 8000).astype(np.int16))
    quiet = np.zeros(rate, np.float32)
    pieces = Segmenter(rate=rate).feed(np.concatenate([quiet, voiced, quiet]))
    spoken_until = (rate + voiced.size) / rate
    partials = [p for p in pieces if not p.final]
    # One partial, a second in; the next one is due in the pause (1.95 s of 1.75 + pre-roll).
    assert partials and all(p.end_s <= spoken_until for p in partials), partials
    assert [p.final for p in pieces][-1] is True


@pytest.mark.parametrize(
    ("said", "written"),
    [
        ("nine seven one, five five five, zero one zero six", "971 555 0106"),
        ("card four five three nine one four eight eight", "card 45391488"),
        ("4539, 1488, 0343, 6467.", "4539 1488 0343 6467."),
        ("double four five six", "4456"),
        ("one or two things", "one or two things"),
        ("call 971-555-0106 on 2026-05-01", "call 971-555-0106 on 2026-05-01"),
        ("one more thing, for example", "one more thing, for example"),
    ],
)
def test_spoken_digits_are_written_as_digits(said: str, written: str) -> None:
    assert spoken_digits(said) == written


def test_keypad_digits_are_never_stored() -> None:
    assert keypad("1234", RedactionPolicy()) == "[keypad entry]"
    assert keypad("4539148803436467", RedactionPolicy()) == "[card ending 6467]"
    assert keypad("*12", RedactionPolicy()) == "*[keypad entry]"


def test_a_configured_model_must_be_a_model_folder(tmp_path: Path) -> None:
    with pytest.raises(ConfigurationError, match="COPILOT_ASR_MODEL"):
        model_folder(tmp_path)
    (tmp_path / "model.bin").write_bytes(b"")
    assert model_folder(tmp_path) == tmp_path


def test_the_shipped_model_is_joined_once(tmp_path: Path) -> None:
    folder = model_folder(None, tmp_path / "asr")
    made = (folder / "model.bin").stat().st_mtime_ns
    assert sorted(p.name for p in folder.iterdir()) == [
        "config.json",
        "model.bin",
        "tokenizer.json",
        "vocabulary.txt",
    ]
    assert model_folder(None, tmp_path / "asr") == folder
    assert (folder / "model.bin").stat().st_mtime_ns == made


def test_the_bench_scores_words_however_numbers_are_grouped() -> None:
    from evals.bench.voice import wer, words

    assert words("Call (971) 555-0106, please!") == ["call", "9715550106", "please"]
    assert words("nine seven one, five five five, zero one zero six") == ["9715550106"]
    assert wer(["a", "b", "c", "d"], ["a", "x", "c"]) == 0.5
