"""The shipped engine with the LLM path on, for the tests against the fake and the local model."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from copilot.actions import ActionLedger
from copilot.engine import Engine
from copilot.llm.assist import LlmEnricher
from copilot.llm.ledger import CallLedger
from copilot.llm.orchestrator import Orchestrator
from copilot.llm.provider import LlmConfig, chat_model
from copilot.settings import load_settings
from copilot.systems import build_systems

Build = Callable[..., Engine]


@pytest.fixture
def own_data(data_dir: Path, tmp_path: Path) -> Path:
    """A copy of the demo systems: approved actions write to it."""
    out = tmp_path / "systems"
    out.mkdir()
    for name in ("crm", "billing", "orders"):
        shutil.copy(data_dir / f"{name}.db", out / f"{name}.db")
    return out


@pytest.fixture
def build(own_data: Path, full_engine: Any, tmp_path: Path) -> Build:
    """The shipped engine with the LLM path on, over a copy of the systems that actions write to."""

    def make(url: str, **config: Any) -> Engine:
        conf = LlmConfig(
            base_url=url, model="fake-model", max_retries=0, coalesce_ms=0, timeout_s=5.0
        )
        conf = LlmConfig(**{**conf.__dict__, **config})
        db = f"sqlite:///{tmp_path / 'sessions.db'}"
        engine: Engine = full_engine(
            db,
            systems=build_systems(load_settings(data_dir=own_data)),
            enricher=lambda host: LlmEnricher(
                host, Orchestrator(chat_model(conf), conf, CallLedger(db))
            ),
            actions=ActionLedger(db),
        )
        return engine

    return make
