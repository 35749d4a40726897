"""Serving the copilot for server tests: over a copy of the systems, ready before the first test."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import httpx

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
def serving(settings: Settings, engine: Engine | None = None) -> Iterator[str]:
    """The app on loopback with the test keys; yields its URL once /readyz says ready."""
    app = create_app(settings, engine=engine, keys=api_keys())
    with start_apps({"copilot": app}) as running:
        url = running.urls["copilot"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)  # /readyz is 503 while the models load, by design
        yield url
