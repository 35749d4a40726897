"""Speech to text with faster-whisper (CTranslate2) on CPU: int8, greedy decoding."""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING

from copilot.voice.audio import RATE, Samples, resample
from copilot.voice.digits import spoken_digits
from copilot.voice.model import model_folder

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

# Whisper base reads telephone digits far better when told to expect them (on 8 kHz speech it
# otherwise hears "nine" as "I'm").
PROMPT = (
    "A customer service phone call. Numbers are read out digit by digit, "
    "like 4111 1111 1111 1111 or 971-555-0106."
)
TOKENS_PER_S = 12  # far more than speech has: a decode past it is Whisper repeating itself
# Whisper's window is 448 tokens, the prompt's included.


class Transcriber:
    """One loaded model shared by every call; loaded on first use, off the import path."""

    def __init__(self, folder: Path | None = None, cpu_threads: int | None = None) -> None:
        self._configured = folder
        self._threads = cpu_threads or min(4, os.cpu_count() or 1)
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    def load(self) -> WhisperModel:
        with self._lock:
            if self._model is None:
                from faster_whisper import WhisperModel

                self._model = WhisperModel(
                    str(model_folder(self._configured)),
                    device="cpu",
                    compute_type="int8",
                    cpu_threads=self._threads,
                    local_files_only=True,
                )
            return self._model

    def text(self, audio: Samples, rate: int = RATE, prompt: str = PROMPT) -> str:
        """What was said, spoken numbers as digits. Blocking: call it off the event loop."""
        if audio.size == 0:
            return ""
        seconds = audio.size / rate
        segments, _ = self.load().transcribe(
            resample(audio, rate),
            language="en",
            beam_size=1,
            # Utterances are cut by our own detector; Whisper's would cut them again.
            vad_filter=False,
            condition_on_previous_text=False,
            without_timestamps=True,
            initial_prompt=prompt,
            max_new_tokens=min(360, int(10 + TOKENS_PER_S * seconds)),
            # One retry, warmer, when the greedy pass reads as a failure (a run that repeats
            # itself or stops after a word); the full ladder of six costs seconds on a CPU.
            temperature=[0.0, 0.4],
        )
        return spoken_digits(" ".join(s.text.strip() for s in segments).strip())
