"""The `copilot` command as a user runs it: readable output, exit codes, no stack traces."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def copilot(
    *args: str, data_dir: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "COLUMNS": "200", **(env or {})}
    if data_dir is not None:
        full["COPILOT_DATA_DIR"] = str(data_dir)
    return subprocess.run(
        [sys.executable, "-m", "server.cli", *args],
        capture_output=True,
        text=True,
        env=full,
        timeout=120,
        check=False,
    )


def test_generate_then_skip_when_unchanged(tmp_path: Path) -> None:
    out = tmp_path / "data"
    first = copilot(
        "data", "generate", "--customers", "300", "--as-of", "2026-11-24", "--out", str(out)
    )
    assert first.returncode == 0, first.stderr
    assert "300 customers" in first.stdout
    assert {p.name for p in out.iterdir()} == {"crm.db", "billing.db", "orders.db"}
    again = copilot(
        "data",
        "generate",
        "--customers",
        "300",
        "--as-of",
        "2026-11-24",
        "--out",
        str(out),
        "--if-stale",
    )
    assert again.returncode == 0 and "nothing to do" in again.stdout


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["data", "generate", "--customers", "0"], "customers"),
        (["data", "generate", "--customers", "2000000"], "customers"),
        (["data", "generate", "--as-of", "yesterday"], "--as-of"),
        (["customers", "resolve", "--phone", "'; DROP TABLE customers;--"], "phone"),
        (["customers", "resolve"], "at least one identifier"),
        (["customers", "show", "42"], "customer_id"),
        (["systems", "serve", "--error-rate", "2"], "error-rate"),
    ],
)
def test_bad_input_gets_a_message_not_a_traceback(args: list[str], needle: str) -> None:
    result = copilot(*args)
    assert result.returncode == 2
    assert needle in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_missing_data_names_the_fix(tmp_path: Path) -> None:
    result = copilot("customers", "show", "CUS-9000001", data_dir=tmp_path / "none")
    assert result.returncode == 2
    assert "copilot data generate" in result.stderr


def test_resolve_and_show(data_dir: Path) -> None:
    matched = copilot(
        "customers", "resolve", "--email", "Margaret.Chen@example.net", data_dir=data_dir
    )
    assert matched.returncode == 0, matched.stderr
    assert "matched" in matched.stdout and "CUS-9000001" in matched.stdout
    ambiguous = copilot("customers", "resolve", "--phone", "(425) 555-0104", data_dir=data_dir)
    assert ambiguous.returncode == 1
    assert "Tom Becker" in ambiguous.stdout and "Anna Becker" in ambiguous.stdout
    shown = copilot("customers", "show", "CUS-9000001", data_dir=data_dir)
    assert shown.returncode == 0, shown.stderr
    assert "PAST DUE" in shown.stdout and "card expired" in shown.stdout
    as_json = copilot("customers", "show", "CUS-9000002", "--json", data_dir=data_dir)
    assert '"receipt_issued": false' in as_json.stdout
    unknown = copilot("customers", "show", "CUS-0999999", data_dir=data_dir)
    assert unknown.returncode == 2 and "no customer" in unknown.stderr


def test_load_into_postgres_and_reject_a_bad_url(data_dir: Path, postgres: dict[str, str]) -> None:
    urls = [f"--{system}-url={postgres[system]}" for system in ("crm", "billing", "orders")]
    loaded = copilot("data", "load", *urls, "--data", str(data_dir))
    assert loaded.returncode == 0, loaded.stderr
    assert "crm:" in loaded.stdout and "rows" in loaded.stdout
    bad = copilot(
        "data",
        "load",
        "--crm-url=nonsense://x",
        "--billing-url=x",
        "--orders-url=x",
        "--data-dir",
        str(data_dir),
    )
    assert bad.returncode == 2 and bad.stderr.startswith("error: --crm-url: nonsense://x")
    assert len(bad.stderr.strip().splitlines()) == 1 and "Traceback" not in bad.stderr


def test_demo_keys_are_made_once_and_kept(tmp_path: Path) -> None:
    from copilot.keys import ROLES, demo_keys
    from server.auth import KeyRing

    path = tmp_path / "demo-keys.yaml"
    first = demo_keys(path)
    assert set(first) == set(ROLES) and (path.stat().st_mode & 0o777) == 0o600
    assert demo_keys(path) == first  # a restart keeps them
    ring = KeyRing.load(path)
    found = ring.find(first["agent"])
    assert found is not None and found.role == "agent" and found.tenant == "brightwave"


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        ("short: {role: agent, tenant: x, name: y}\n", "at least 16 characters"),
        ("a-long-enough-key-123: {role: wizard, tenant: x, name: y}\n", "role"),
        ("- just a list\n", "expected a mapping"),
    ],
)
def test_serve_refuses_a_bad_key_file_in_one_line(tmp_path: Path, body: str, needle: str) -> None:
    keys = tmp_path / "keys.yaml"
    keys.write_text(body)
    done = copilot("serve", "--port", "1", env={"COPILOT_API_KEYS_FILE": str(keys)})
    assert done.returncode == 2 and needle in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize("variable", ["COPILOT_INTENT_MODEL", "COPILOT_MOOD_MODEL"])
def test_serve_refuses_a_model_folder_that_does_not_load_in_one_line(
    tmp_path: Path, variable: str
) -> None:
    done = copilot("serve", "--port", "1", env={variable: str(tmp_path / "nowhere")})
    assert done.returncode == 2, done.stderr
    assert f"{variable}: " in done.stderr and "manifest.json is missing" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout
