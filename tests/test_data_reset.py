"""`copilot data reset` puts the story customers back after approvals wrote to them; `data
load` and `systems serve` read the data folder from one flag or COPILOT_DATA_DIR; a bad URL
is answered in one line."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from copilot.settings import load_settings
from copilot.systems import build_systems
from server.cli import app
from tests.test_cli import copilot
from tools.actions import (
    ActionRequest,
    ChangePlan,
    PaymentMethodEntry,
    StartReturn,
    TakePayment,
    UpdateAutopay,
    WaiveLateFee,
)
from tools.demo.reset import STORY_IDS, reset_stories
from tools.sql.engine import SYSTEM_NAMES, make_engine, sqlite_url

MARGARET, DANIEL = "CUS-9000001", "CUS-9000002"


def cli(*args: str, data_dir: Path | None = None) -> Result:
    """The command in this process (a subprocess pays seconds of imports per call)."""
    env = {"COPILOT_DATA_DIR": str(data_dir) if data_dir is not None else None}
    result = CliRunner().invoke(app, list(args), env=env)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def dump(folder: Path) -> dict[str, set[tuple[object, ...]]]:
    """Every row of every demo table (not the action log), by system and table."""
    out: dict[str, set[tuple[object, ...]]] = {}
    for system in SYSTEM_NAMES:
        with sqlite3.connect(folder / f"{system}.db") as conn:
            names = [
                r[0]
                for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
                if r[0] != "action_log"
            ]
            for name in names:
                out[f"{system}.{name}"] = set(conn.execute(f"SELECT * FROM {name}"))
    return out


async def approve_in_the_demo(folder: Path, other_line: str) -> None:
    """What agents approving in the demo write: through the real SQL actions, as the server does."""
    systems = build_systems(load_settings(data_dir=folder))
    actions = systems.actions
    assert actions is not None
    try:
        card = PaymentMethodEntry(
            account_number="BA90000001", brand="Visa", last4="4242", exp_month=3, exp_year=2031
        )
        method = await actions.register_payment_method(card)
        requests: list[ActionRequest] = [
            UpdateAutopay(
                kind="update_autopay", account_number="BA90000001", payment_method=method.token
            ),
            TakePayment(kind="take_payment", account_number="BA90000001"),
            WaiveLateFee(kind="waive_late_fee", account_number="BA90000001"),
            ChangePlan(kind="change_plan", line_id="L90000010", plan_code="UNL"),
            StartReturn(
                kind="start_return",
                order_number="S900000201",
                item_id=900000201,
                reason="too small",
            ),
            # A generated customer's plan change is the demo's own history: it stays.
            ChangePlan(kind="change_plan", line_id=other_line, plan_code="UNL"),
        ]
        for n, request in enumerate(requests):
            await actions.perform(f"demo-{n}", request, approved_by="agent@example.com")
    finally:
        await systems.aclose()


@pytest.fixture
def played(data_dir: Path, tmp_path: Path) -> tuple[Path, str]:
    """A copy of the demo data after a demo's approvals, and the generated line it changed."""
    folder = tmp_path / "data"
    shutil.copytree(data_dir, folder)
    with sqlite3.connect(folder / "billing.db") as conn:
        other_line = conn.execute(
            "SELECT l.line_id FROM lines l JOIN accounts a USING (account_number) "
            "WHERE a.crm_customer_id NOT LIKE 'CUS-9%' AND l.plan_code != 'UNL' LIMIT 1"
        ).fetchone()[0]
    asyncio.run(approve_in_the_demo(folder, other_line))
    return folder, str(other_line)


def test_reset_restores_the_stories_and_nothing_else(
    data_dir: Path, played: tuple[Path, str]
) -> None:
    folder, other_line = played
    before, changed = dump(data_dir), dump(folder)
    assert changed != before  # the approvals really wrote

    checked = cli("data", "reset", "--check", data_dir=folder)
    assert checked.exit_code == 1, checked.stderr
    assert "autopay_mandates" in checked.stdout and "returns" in checked.stdout
    assert dump(folder) == changed  # --check writes nothing

    done = cli("data", "reset", data_dir=folder)  # the folder from COPILOT_DATA_DIR
    assert done.exit_code == 0, done.stderr
    assert "restored the story customers" in done.stdout
    after = dump(folder)
    line = next(r for r in after["billing.lines"] if r[0] == other_line)
    assert line[3] == "UNL"  # the generated customer's approved change is still there
    after["billing.lines"] = {r for r in after["billing.lines"] if r[0] != other_line}
    before["billing.lines"] = {r for r in before["billing.lines"] if r[0] != other_line}
    assert after == before  # the stories as generated; every other row as it was

    again = cli("data", "reset", "--data-dir", str(folder))
    assert again.exit_code == 0 and "as their stories tell" in again.stdout


def test_reset_writes_each_database_in_one_transaction(played: tuple[Path, str]) -> None:
    folder, _ = played
    engines = {s: make_engine(sqlite_url(folder, s)) for s in SYSTEM_NAMES}
    try:
        assert reset_stories(engines, check_only=True).changed["crm"] == []
        done = reset_stories(engines)
        assert {
            "accounts",
            "autopay_mandates",
            "payments",
            "adjustments",
            "payment_methods",
        } <= set(done.changed["billing"])
        assert set(done.changed["orders"]) == {"returns"}
        assert not reset_stories(engines).restored
    finally:
        for engine in engines.values():
            engine.dispose()
    assert {MARGARET, DANIEL} <= STORY_IDS


def test_reset_refuses_what_is_not_demo_data(tmp_path: Path) -> None:
    for system in SYSTEM_NAMES:
        sqlite3.connect(tmp_path / f"{system}.db").close()
    result = cli("data", "reset", "--data-dir", str(tmp_path))
    assert result.exit_code == 2
    assert "no demo data" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("url", "needle"),
    [
        ("nonsense", "is not a database URL"),
        ("postgresql://agent:s3cret@db:port/x", "is not a database URL"),
        ("foo://db/x", "names no database SQLAlchemy knows"),
        ("mysql://agent:s3cret@db/x", "driver for mysql is not installed"),
        ("postgresql+psycopg://agent:s3cret@127.0.0.1:9/x", "could not load billing"),
    ],
)
def test_load_answers_a_bad_url_in_one_line(
    data_dir: Path, tmp_path: Path, url: str, needle: str
) -> None:
    crm = tmp_path / "crm.db"
    result = cli(
        "data",
        "load",
        "--crm-url",
        f"sqlite:///{crm}",
        "--billing-url",
        url,
        "--orders-url",
        f"sqlite:///{tmp_path / 'orders.db'}",
        data_dir=data_dir,
    )
    assert result.exit_code == 2, result.stdout + result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "billing" in lines[0]
    assert needle in lines[0] and "Traceback" not in result.stderr
    assert "s3cret" not in result.stderr + result.stdout
    assert "rows ->" not in result.stdout  # nothing was copied before the bad URL was found


def test_load_and_systems_serve_read_the_data_folder_alike(data_dir: Path, tmp_path: Path) -> None:
    urls = [f"--{s}-url=sqlite:///{tmp_path / f'{s}.db'}" for s in SYSTEM_NAMES]
    loaded = cli("data", "load", *urls, data_dir=data_dir)  # COPILOT_DATA_DIR
    assert loaded.exit_code == 0, loaded.stderr
    assert loaded.stdout.count("rows ->") == 3
    old = cli("data", "load", *urls, "--data", str(data_dir))  # the old flag still works
    assert old.exit_code == 0, old.stderr

    missing = tmp_path / "nowhere"
    for args in (["data", "load", *urls], ["systems", "serve"]):
        by_env = cli(*args, data_dir=missing)
        by_flag = cli(*args, "--data-dir", str(missing))
        for result in (by_env, by_flag):
            assert result.exit_code == 2 and f"{missing}/crm.db does not exist" in result.stderr
    for args in (["data", "load"], ["systems", "serve"]):
        shown = cli(*args, "--help")
        assert "--data-dir" in shown.stdout and "COPILOT_DATA_DIR" in shown.stdout


def test_a_bad_port_is_one_line_not_a_traceback(tmp_path: Path) -> None:
    # As a user runs it: this URL raised a ValueError traceback before.
    result = copilot(
        "data",
        "load",
        "--crm-url=postgresql://agent:s3cret@db:port/crm",
        "--billing-url=sqlite://",
        "--orders-url=sqlite://",
        "--data-dir",
        str(tmp_path),
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "error: --crm-url: 'postgresql://agent:***@db:port/crm' is not a database URL; "
        "expected one like postgresql+psycopg://user:password@host:5432/crm"
    ]
