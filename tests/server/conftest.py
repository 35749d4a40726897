"""Serving the copilot for server tests: over a copy of the systems, ready before the first test."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from copilot.settings import Settings, load_settings
from server.app import create_app
from tests.conftest import api_keys
from tools.services import start_apps

if TYPE_CHECKING:
    from copilot.engine import Engine


def copied_settings(data_dir: Path, demo_kb: Path, root: Path) -> Settings:
    """Settings over a copy of the demo systems: approved actions write to the copy."""
    shutil.copytree(data_dir, root / "data")
    return load_settings(data_dir=root / "data", kb_dir=demo_kb)


@contextmanager
def serving_shipped(
    request: pytest.FixtureRequest, name: str, ledger: bool = False, **updates: Any
) -> Iterator[str]:
    """The shipped engine served over a fresh copy of the systems; updates change its settings.

    ledger: record proposals and approvals (the action ledger) beside the session log.
    """
    from copilot.actions import ActionLedger
    from copilot.systems import build_systems
    from tests.conftest import shipped_engine

    root = request.getfixturevalue("tmp_path_factory").mktemp(name)
    data_dir, demo_kb, embedder, models = (
        request.getfixturevalue(n) for n in ("data_dir", "demo_kb", "embedder", "models")
    )
    settings = copied_settings(data_dir, demo_kb, root).model_copy(update=updates)
    db = f"sqlite:///{root / 'sessions.db'}"
    extra: dict[str, Any] = {"actions": ActionLedger(db)} if ledger else {}
    engine = shipped_engine(db, build_systems(settings), demo_kb, embedder, models, **extra)
    with serving(settings, engine) as url:
        yield url


@contextmanager
def serving(settings: Settings, engine: Engine | None = None) -> Iterator[str]:
    """The app on loopback with the test keys; yields its URL once /readyz says ready."""
    app = create_app(settings, engine=engine, keys=api_keys())
    with start_apps({"copilot": app}) as running:
        url = running.urls["copilot"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)  # /readyz is 503 while the models load, by design
        yield url
