"""Shared fixtures: one demo dataset per session, the systems over both backends, live servers."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Iterator
from datetime import date
from pathlib import Path

import pytest

from tools.base import Systems
from tools.demo.generate import Spec, generate
from tools.services import RunningServices, start_services
from tools.sql import sql_systems

os.environ.setdefault("HF_HUB_OFFLINE", "1")
TEST_CUSTOMERS = 2000
TODAY = date.today()


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Demo data dated today, so 'two weeks ago' and 'today' mean what the stories say."""
    out = tmp_path_factory.mktemp("data")
    generate(out, Spec(customers=TEST_CUSTOMERS, seed=42, as_of=TODAY))
    return out


@pytest.fixture(scope="session")
def services(data_dir: Path) -> Iterator[RunningServices]:
    with start_services(data_dir, token="test-token") as running:
        yield running


@pytest.fixture(params=["sql", "rest"])
async def systems(
    request: pytest.FixtureRequest, data_dir: Path, services: RunningServices
) -> AsyncIterator[Systems]:
    """The same three systems over each backend: the contract suite runs against both."""
    if request.param == "sql":
        yield sql_systems(data_dir)
        return
    from tools.rest import rest_systems

    rest = rest_systems(services.urls, token="test-token", timeout_s=5.0)
    yield rest
    await rest.aclose()
