"""Calls made with espeak-ng: text to 8 kHz mu-law, sent as Twilio Media Streams messages.

espeak-ng is a Debian package (`make espeak`), not a Python one; speech() names it when absent.
"""

from __future__ import annotations

import base64
import io
import json
import shutil
import subprocess
import wave
from collections.abc import Iterator

import numpy as np
import numpy.typing as npt

from copilot.voice.audio import mulaw_encode

VOICE = "en-us+m1"  # of espeak's voices, the one Whisper base reads best over a phone line
WPM = 130
FRAME_MS = 20  # what Twilio sends per media message
RATE = 8_000


class NoEspeak(FileNotFoundError):
    """espeak-ng is not installed."""


def espeak() -> str:
    found = shutil.which("espeak-ng")
    if found is None:
        raise NoEspeak("espeak-ng is needed for voice calls: apt-get install espeak-ng")
    return found


def speech(text: str, rate: int = RATE) -> npt.NDArray[np.int16]:
    """text spoken by espeak-ng, as 16-bit samples at rate (the phone line's 8 kHz by default)."""
    from scipy.signal import resample_poly

    wav = subprocess.run(  # noqa: S603 - our own argument list, the text as one argument
        [espeak(), "-v", VOICE, "-s", str(WPM), "-g", "4", "--stdout", text],
        capture_output=True,
        check=True,
    ).stdout
    with wave.open(io.BytesIO(wav)) as w:
        native = w.getframerate()
        samples = np.frombuffer(w.readframes(w.getnframes()), dtype="<i2")
    out = resample_poly(samples.astype(np.float64), rate, native)
    return np.asarray(np.clip(out, -32_768, 32_767), dtype=np.int16)


def silence(seconds: float, rate: int = RATE) -> npt.NDArray[np.int16]:
    return np.zeros(round(seconds * rate), dtype=np.int16)


def start(call_sid: str, tracks: list[str], encoding: str = "audio/x-mulaw", rate: int = RATE,
          **parameters: str) -> str:  # fmt: skip
    return json.dumps(
        {
            "event": "start",
            "sequenceNumber": "1",
            "start": {
                "streamSid": f"MZ{call_sid}",
                "callSid": call_sid,
                "accountSid": "AC0000",
                "tracks": tracks,
                "customParameters": parameters,
                "mediaFormat": {"encoding": encoding, "sampleRate": rate, "channels": 1},
            },
            "streamSid": f"MZ{call_sid}",
        }
    )


def media(
    samples: npt.NDArray[np.int16], track: str = "inbound", encoding: str = "audio/x-mulaw",
    rate: int = RATE, first_chunk: int = 1,
) -> Iterator[str]:  # fmt: skip
    """The samples as 20 ms media messages, as Twilio frames them."""
    step = rate * FRAME_MS // 1000
    for i, at in enumerate(range(0, samples.size, step)):
        piece = samples[at : at + step]
        raw = mulaw_encode(piece) if encoding == "audio/x-mulaw" else piece.astype("<i2").tobytes()
        yield json.dumps(
            {
                "event": "media",
                "media": {
                    "track": track,
                    "chunk": str(first_chunk + i),
                    "timestamp": str(at * 1000 // rate),
                    "payload": base64.b64encode(raw).decode(),
                },
            }
        )


def dtmf(digit: str, track: str = "inbound") -> str:
    return json.dumps({"event": "dtmf", "dtmf": {"track": track, "digit": digit}})
