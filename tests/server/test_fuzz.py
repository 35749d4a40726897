"""schemathesis against the OpenAPI spec, over real HTTP: no input makes the server answer 5xx."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok

from tests.conftest import bearer
from tests.server.conftest import copied_settings, serving

EXAMPLES = 12  # per operation; every operation of the spec is fuzzed


@pytest.fixture(scope="module")
def api_url(
    data_dir: Path, demo_kb: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    with serving(copied_settings(data_dir, demo_kb, tmp_path_factory.mktemp("fuzz"))) as url:
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
