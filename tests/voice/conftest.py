"""A real server on loopback for calls synthesised with espeak-ng; one Whisper model per run."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from copilot.engine import Engine
from tests.conftest import api_keys, shipped_engine
from tests.server.conftest import copied_settings, serving


@dataclass(frozen=True)
class Served:
    url: str
    engine: Engine  # to read the stored events: what would leak is what was stored

    @property
    def ws(self) -> str:
        return self.url.replace("http://", "ws://") + "/v1/voice/stream"


def key(role: str) -> str:
    """A test API key, as a Twilio <Stream> URL carries it."""
    ring = api_keys()
    return ring.by_role()[role] if role != "other" else "test-other-agent-key-0123"


@pytest.fixture(scope="session")
def voiced(request: pytest.FixtureRequest) -> Iterator[Served]:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is needed for the voice tests: make espeak (apt-get install)")
    from copilot.systems import build_systems

    root = request.getfixturevalue("tmp_path_factory").mktemp("voice")
    data_dir, demo_kb, embedder, models = (
        request.getfixturevalue(n) for n in ("data_dir", "demo_kb", "embedder", "models")
    )
    settings = copied_settings(data_dir, demo_kb, root)
    db = f"sqlite:///{root / 'sessions.db'}"
    engine = shipped_engine(db, build_systems(settings), demo_kb, embedder, models)
    with serving(settings, engine) as url:
        yield Served(url, engine)
