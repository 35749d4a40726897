"""schemathesis against the OpenAPI spec, over real HTTP: no input makes the server answer 5xx."""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from copilot.settings import load_settings
from server.app import create_app
from tests.conftest import api_keys, bearer
from tools.services import start_apps

EXAMPLES = 12  # per operation; every operation of the spec is fuzzed


@pytest.fixture(scope="module")
def api_url(
    data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    root = tmp_path_factory.mktemp("fuzz")
    shutil.copytree(data_dir, root / "data")
    app = create_app(load_settings(data_dir=root / "data", kb_dir=demo_kb), keys=api_keys())
    with start_apps({"copilot": app}) as running:
        url = running.urls["copilot"]
        deadline = time.monotonic() + 120
        while httpx.get(f"{url}/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.2)  # /readyz is 503 while the models load, by design
        yield url


def test_no_input_makes_the_server_fail(api_url: str) -> None:
    schema = schemathesis.openapi.from_url(f"{api_url}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the spec itself must be valid
        operations.append(result.ok())
    assert len(operations) >= 15
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def fuzz(case: Any) -> None:
            case.call_and_validate(headers=bearer("agent"), checks=[not_a_server_error], timeout=30)

        fuzz()
