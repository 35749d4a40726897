"""The demo data: deterministic from its seed, consistent across silos, swapped in whole."""

from __future__ import annotations

import hashlib
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from tools.demo.generate import Spec, generate, read_spec
from tools.errors import InvalidInput

SPEC = Spec(customers=400, seed=7, as_of=date(2026, 11, 24))


def digest(folder: Path) -> str:
    h = hashlib.sha256()
    for name in ("crm", "billing", "orders"):
        with sqlite3.connect(folder / f"{name}.db") as conn:
            tables = [
                r[0]
                for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' ORDER BY name"
                )
            ]
            for table in tables:
                for row in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2"):
                    h.update(repr(row).encode())
    return h.hexdigest()


def query(folder: Path, db: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(folder / f"{db}.db") as conn:
        return conn.execute(sql).fetchall()


def test_same_seed_same_data_other_seed_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", SPEC)
    generate(tmp_path / "b", SPEC)
    generate(tmp_path / "c", Spec(customers=400, seed=8, as_of=SPEC.as_of))
    assert digest(tmp_path / "a") == digest(tmp_path / "b")
    assert digest(tmp_path / "a") != digest(tmp_path / "c")
    assert read_spec(tmp_path / "a") == SPEC
    # Data an older generator wrote is stale for the same spec: `--if-stale` builds it again.
    for system in ("crm", "billing", "orders"):
        with sqlite3.connect(tmp_path / "a" / f"{system}.db") as conn:
            conn.execute("UPDATE meta SET value = 'older' WHERE key = 'generator'")
    assert read_spec(tmp_path / "a") is None


def test_silos_agree_on_their_cross_references(tmp_path: Path) -> None:
    generate(tmp_path, SPEC)
    crm_ids = {r[0] for r in query(tmp_path, "crm", "SELECT customer_id FROM customers")}
    assert len(crm_ids) == 406  # 400 generated and 6 story customers
    accounts = query(tmp_path, "billing", "SELECT crm_customer_id FROM accounts")
    assert {r[0] for r in accounts} == crm_ids
    refs = query(
        tmp_path, "orders", "SELECT customer_ref FROM orders WHERE customer_ref IS NOT NULL"
    )
    assert {r[0] for r in refs} <= crm_ids
    phones = {
        r[0]
        for r in query(tmp_path, "crm", "SELECT normalized FROM contact_points WHERE kind='phone'")
    }
    first_lines = query(tmp_path, "billing", "SELECT msisdn FROM lines WHERE line_id LIKE '%0'")
    assert {r[0] for r in first_lines} <= phones
    # Card numbers are never stored whole anywhere.
    for db, table in (("orders", "orders"), ("billing", "autopay_mandates")):
        lengths = query(tmp_path, db, f"SELECT DISTINCT length(card_last4) FROM {table}")
        assert lengths == [(4,)]


def test_generated_identifiers_are_unique(tmp_path: Path) -> None:
    generate(tmp_path, SPEC)
    dupes = query(
        tmp_path,
        "crm",
        "SELECT normalized, COUNT(DISTINCT customer_id) n FROM "
        "contact_points WHERE kind != 'social' GROUP BY normalized HAVING n > 1",
    )
    assert dupes == [("+14255550104", 2)]  # only the story family phone is shared


@pytest.mark.parametrize(
    "spec", [Spec(0, 1, SPEC.as_of), Spec(1_000_001, 1, SPEC.as_of), Spec(10, -1, SPEC.as_of)]
)
def test_bad_spec_leaves_existing_data_untouched(tmp_path: Path, spec: Spec) -> None:
    generate(tmp_path, SPEC)
    before = digest(tmp_path)
    with pytest.raises(InvalidInput):
        generate(tmp_path, spec)
    assert digest(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
