"""Cutting utterances out of a stream of audio (8 or 16 kHz) by its energy.

An energy detector rather than Silero: telephone audio arrives as 20 ms frames, the detector
must answer per frame with no model, and synthetic and telephone speech both sit far above the
line's noise floor. The floor adapts, so a noisy line raises the bar with it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from copilot.voice.audio import Samples

FRAME_S = 0.03


@dataclass(frozen=True)
class Utterance:
    """One turn of speech, and where it lies in the track (seconds from the track's start)."""

    audio: Samples  # at the segmenter's rate
    rate: int
    start_s: float
    end_s: float
    final: bool


@dataclass
class Segmenter:
    """Feed audio in any sizes; take back partial utterances (every partial_s) and final ones."""

    rate: int = 16_000
    silence_s: float = 0.7  # this much quiet ends a turn
    min_speech_s: float = 0.25  # a shorter burst is a click or a breath
    max_utterance_s: float = 20.0  # a monologue is cut so the agent sees it in pieces
    partial_s: float = 1.0
    pre_roll_s: float = 0.2  # kept before the first loud frame: onsets are quiet
    threshold: float = 0.01  # RMS on the -1..1 scale, over which a frame may be speech
    _pending: Samples = field(default_factory=lambda: np.zeros(0, np.float32))
    _frames: list[Samples] = field(default_factory=list)
    _history: list[Samples] = field(default_factory=list)
    _voiced: int = 0
    _quiet: int = 0
    _since_partial: int = 0
    _floor: float = 0.0
    _at: int = 0  # samples seen
    _start: int = 0

    def feed(self, audio: Samples) -> list[Utterance]:
        """What this audio completes: partials of the open utterance and finals of ended ones."""
        out: list[Utterance] = []
        data = np.concatenate([self._pending, audio])
        frame = round(self.rate * FRAME_S)
        whole = data.size - data.size % frame
        self._pending = data[whole:]
        for i in range(0, whole, frame):
            got = self._frame(data[i : i + frame])
            if got is not None:
                out.append(got)
        return out

    def flush(self) -> list[Utterance]:
        """The utterance still open when the track ends."""
        done = self._close()
        return [done] if done is not None else []

    def _frame(self, frame: Samples) -> Utterance | None:
        self._at += frame.size
        rms = float(np.sqrt(np.mean(frame.astype(np.float64) ** 2)))
        loud = rms > max(self.threshold, 4 * self._floor)
        if not self._frames:
            if not loud:
                self._floor = 0.95 * self._floor + 0.05 * rms
                self._history = [*self._history, frame][-self._frames_in(self.pre_roll_s) :]
                return None
            self._frames = [*self._history, frame]
            self._history = []
            self._start = self._at - sum(f.size for f in self._frames)
            self._voiced, self._quiet, self._since_partial = 1, 0, 1
            return None
        self._frames.append(frame)
        self._since_partial += 1
        if loud:
            self._voiced += 1
            self._quiet = 0
        else:
            self._quiet += 1
        if self._quiet >= self._frames_in(self.silence_s) or len(self._frames) >= self._frames_in(
            self.max_utterance_s
        ):
            return self._close()
        # No partial once the speaker has paused: it would transcribe what the final is about to,
        # and hold the one transcriber when the final comes. It follows when speech resumes.
        if self._since_partial >= self._frames_in(self.partial_s) and self._quiet == 0:
            self._since_partial = 0
            if self._voiced >= self._frames_in(self.min_speech_s):
                return self._utterance(final=False)
        return None

    def _close(self) -> Utterance | None:
        speech = self._voiced >= self._frames_in(self.min_speech_s)
        done = self._utterance(final=True) if speech and self._frames else None
        self._frames, self._voiced, self._quiet = [], 0, 0
        return done

    def _utterance(self, final: bool) -> Utterance:
        # The trailing quiet is left out of a final: it is only the detector waiting.
        frames = self._frames[: len(self._frames) - self._quiet] if final else self._frames
        audio = np.concatenate(frames) if frames else np.zeros(0, np.float32)
        return Utterance(
            audio=audio,
            rate=self.rate,
            start_s=self._start / self.rate,
            end_s=(self._start + audio.size) / self.rate,
            final=final,
        )

    @staticmethod
    def _frames_in(seconds: float) -> int:
        return max(1, round(seconds / FRAME_S))
