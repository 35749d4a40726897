"""Live voice figures: the shipped voice scenarios' customer turns, spoken by espeak-ng over an
8 kHz mu-law line, cut by the detector and transcribed as a call would be, in real time.

Word error rate beside the text each turn was made from; real-time factor of the final
transcriptions; end of speech to panel update (the detector's wait, the transcription and the
engine, with the shipped models and KB); and how many calls one process keeps up with.
"""

from __future__ import annotations

import asyncio
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from rapidfuzz.distance import Levenshtein

from copilot.engine import Engine
from copilot.events import Event
from copilot.voice.audio import mulaw_decode, mulaw_encode, to_float
from copilot.voice.call import Call, Transcript
from copilot.voice.digits import spoken_digits
from copilot.voice.transcriber import Transcriber
from copilot.voice.vad import Segmenter
from evals.bench.foundation import Figure, ensure_data, percentile
from evals.speech import FRAME_MS, RATE, silence, speech

SCENARIOS = Path(__file__).resolve().parents[1] / "scenarios"
# A call keeps up when every turn reaches the panel within this of its end: a backlog that grows
# through the call passes it within a few turns.
KEEPS_UP_S = 5.0
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class Turn:
    scenario: str
    text: str
    audio: np.ndarray  # 8 kHz 16-bit, as the line carries it


def words(text: str) -> list[str]:
    """Lower case, no punctuation, numbers as digit strings however they were grouped."""
    digits = re.sub(r"(?<=\d)[\s,.()-]+(?=\d)", "", spoken_digits(text.replace("(", " ")))
    return _WORD.findall(digits.lower())


def wer(reference: list[str], heard: list[str]) -> float:
    return Levenshtein.distance(reference, heard) / max(1, len(reference))


def turns(scenarios: int, per_scenario: int = 2) -> list[Turn]:
    """The first customer turns of the shipped voice scenarios, spoken."""
    out: list[Turn] = []
    for path in sorted(SCENARIOS.glob("*.yaml")):
        spec = yaml.safe_load(path.read_text())
        if spec.get("channel") != "voice":
            continue
        said = [
            t["text"]
            for t in spec["turns"]
            if t.get("type", "utterance") == "utterance" and t.get("speaker") == "customer"
        ][:per_scenario]
        out += [Turn(spec["name"], text, speech(text)) for text in said]
        if len({t.scenario for t in out}) >= scenarios:
            break
    return out


def accuracy(stt: Transcriber, spoken: list[Turn]) -> tuple[list[float], list[float], float]:
    """Each turn's WER and real-time factor (one utterance each, as the detector cuts it)."""
    errors, factors, total = [], [], 0.0
    for turn in spoken:
        line = to_float(mulaw_decode(mulaw_encode(turn.audio)))
        seg = Segmenter(rate=RATE)
        finals = [
            u for u in seg.feed(np.concatenate([line, np.zeros(RATE, np.float32)])) if u.final
        ]
        finals += seg.flush()
        heard = []
        for u in finals:
            began = time.perf_counter()
            heard.append(stt.text(u.audio, RATE))
            spent = time.perf_counter() - began
            factors.append(spent / max(1e-6, u.end_s - u.start_s))
        errors.append(wer(words(turn.text), words(" ".join(heard))))
        total += len(words(turn.text))
    return errors, factors, total


async def _call(engine: Engine, stt: Transcriber, n: int, spoken: list[Turn]) -> list[float]:
    """One call in real time; for each turn, its end of speech to its panel update, seconds."""
    sid = f"bench-voice-{n}-{time.monotonic_ns()}"
    lags: list[float] = []
    began = time.monotonic()

    async def post(event: Event) -> None:
        await engine.handle(event)
        if event.type == "utterance":
            lags.append(time.monotonic() - (began + event.data["end_s"]))

    async def tell(_: Transcript) -> None:
        return None

    call = Call(sid, sid, RATE, stt, post, tell)
    call.start()
    line = np.concatenate([np.concatenate([t.audio, silence(1.0)]) for t in spoken])
    step = RATE * FRAME_MS // 1000
    for i, at in enumerate(range(0, line.size, step)):
        call.audio("inbound", to_float(mulaw_decode(mulaw_encode(line[at : at + step]))))
        # Paced as a phone line delivers it: the next frame when its time comes.
        await asyncio.sleep(max(0.0, began + (i + 1) * FRAME_MS / 1000 - time.monotonic()))
    await call.finish()
    return lags


async def _calls(engine: Engine, stt: Transcriber, k: int, spoken: list[Turn]) -> list[list[float]]:
    return list(await asyncio.gather(*(_call(engine, stt, n, spoken) for n in range(k))))


def _engine(scratch: Path) -> Engine:
    from copilot.runtime import optional_models
    from evals.bench.engine import ARTICLES, offline_engine
    from tools.kb.embeddings import Embedder
    from tools.kb.ingest import ingest
    from tools.kb.store import KnowledgeStore, connect

    data = ensure_data(Path("var/bench/c2000"), 2000)
    embedder = Embedder()
    kb = KnowledgeStore(connect(scratch / "kb"))
    ingest(kb, embedder, ARTICLES)
    intent, mood = optional_models(embedder)
    url = f"sqlite:///{scratch / 'sessions.db'}"
    return offline_engine(url, data, kb, embedder, intent, mood, embedder)


def run(scenarios: int = 4, max_calls: int = 8) -> tuple[list[Figure], str]:
    """Every figure, and a line saying what was measured."""
    stt = Transcriber()
    stt.load()
    spoken = turns(scenarios)
    errors, factors, total = accuracy(stt, spoken)
    engine = _engine(Path(tempfile.mkdtemp(prefix="voice-bench-")))
    engine.warm_up()
    lags = asyncio.run(_calls(engine, stt, 1, spoken))[0]
    sustained = 1 if lags and max(lags) <= KEEPS_UP_S else 0
    k = 2
    while sustained == k // 2 and k <= max_calls:
        every = asyncio.run(_calls(engine, stt, k, spoken))
        if all(c and max(c) <= KEEPS_UP_S for c in every):
            sustained = k
        k *= 2
    seconds = sum(t.audio.size for t in spoken) / RATE
    figures = [
        Figure("word error rate", 100 * float(np.mean(errors)), "%", "per-turn max",
               100 * max(errors), "<= 15 %"),
        Figure("real-time factor p50", percentile(factors, 50), "x", "p95",
               percentile(factors, 95), "< 0.5 x"),
        Figure("end of speech to panel p50", 1000 * percentile(lags, 50), "ms", "p95",
               1000 * percentile(lags, 95), "<= 2,000 ms p95"),
        Figure("calls sustained in real time", sustained, "calls", "tried up to",
               min(k // 2, max_calls), f"each turn on the panel <= {KEEPS_UP_S:g} s"),
    ]  # fmt: skip
    what = (
        f"{len(spoken)} customer turns of {len({t.scenario for t in spoken})} voice scenarios, "
        f"{int(total)} words, {seconds:.0f} s of 8 kHz mu-law speech (espeak-ng)"
    )
    return figures, what
