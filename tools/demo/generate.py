"""Build the three silo databases from a seed: one process per silo, written atomically."""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import queue
import random
import shutil
import sqlite3
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import Date, DateTime, Table
from sqlalchemy.dialects import sqlite
from sqlalchemy.schema import CreateIndex, CreateTable

from tools.demo import COMPANY
from tools.demo.billing_gen import billing_rows
from tools.demo.catalogue import PLANS, PRODUCTS, RETURN_POLICIES, STORES
from tools.demo.crm_gen import crm_rows
from tools.demo.orders_gen import orders_rows
from tools.demo.population import CHUNK, Base, Rows, base, chunk_rng, chunks
from tools.demo.stories import story_rows
from tools.errors import InvalidInput
from tools.schema import METADATA, SCHEMA_VERSION
from tools.sql.engine import SYSTEM_NAMES

MAX_CUSTOMERS = 1_000_000
RowBuilder = Callable[[Base, date, random.Random], Rows]
BUILDERS: dict[str, tuple[int, RowBuilder]] = {
    "crm": (1, crm_rows),
    "billing": (2, billing_rows),
    "orders": (3, orders_rows),
}
Progress = Callable[[str, int], None]
_DIALECT = sqlite.dialect()
# The generators' own source: data from an older generator is stale even for the same spec, so
# `--if-stale` (and `make demo`) rebuilds it after an upgrade changed what the stories hold.
GENERATOR = hashlib.sha256(
    b"".join(p.read_bytes() for p in sorted(Path(__file__).parent.glob("*.py")))
).hexdigest()[:16]


@dataclass(frozen=True)
class Spec:
    customers: int
    seed: int
    as_of: date

    def check(self) -> None:
        if not 1 <= self.customers <= MAX_CUSTOMERS:
            raise InvalidInput("customers", f"must be between 1 and {MAX_CUSTOMERS:,}")
        if not 0 <= self.seed < 2**32:
            raise InvalidInput("seed", "must be between 0 and 4294967295")


@dataclass(frozen=True)
class Report:
    out_dir: Path
    customers: int
    rows: dict[str, int]
    seconds: float


def _iso(value: object) -> object:
    # SQLAlchemy's SQLite dialect reads dates and datetimes back from ISO text with a space.
    if isinstance(value, datetime):
        return value.isoformat(" ")
    if isinstance(value, date):
        return value.isoformat()
    return value


def sqlite_rows(table: Table, rows: list[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows as the demo's SQLite files hold them: dates and times as ISO text."""
    temporal = [i for i, col in enumerate(table.columns) if isinstance(col.type, (Date, DateTime))]
    if not temporal:
        return rows
    fixed = []
    for row in rows:
        values = list(row)
        for i in temporal:
            values[i] = _iso(values[i])
        fixed.append(tuple(values))
    return fixed


def insert_sql(table: Table) -> str:
    return f"INSERT INTO {table.name} VALUES ({','.join('?' * len(table.columns))})"


def _insert(conn: sqlite3.Connection, table: Table, rows: list[tuple[object, ...]]) -> None:
    if rows:
        conn.executemany(insert_sql(table), sqlite_rows(table, rows))


def _reference_rows(system: str, spec: Spec) -> Rows:
    meta = [
        ("company", COMPANY),
        ("seed", str(spec.seed)),
        ("as_of", spec.as_of.isoformat()),
        ("customers", str(spec.customers)),
        ("schema_version", SCHEMA_VERSION),
        ("generator", GENERATOR),
    ]
    rows: Rows = {"meta": list(meta)}
    if system == "billing":
        rows["plans"] = list(PLANS)
    if system == "orders":
        rows["stores"] = list(STORES)
        rows["return_policies"] = list(RETURN_POLICIES)
        rows["products"] = list(PRODUCTS)
    return rows


def build_system(system: str, spec: Spec, path: Path, report: Progress | None = None) -> int:
    """Write one silo's database at `path`; returns the number of rows written."""
    metadata = METADATA[system]
    tables = metadata.tables
    conn = sqlite3.connect(path, isolation_level=None)
    count = 0
    try:
        for pragma in ("journal_mode=OFF", "synchronous=OFF", "cache_size=-200000"):
            conn.execute(f"PRAGMA {pragma}")
        conn.execute("BEGIN")
        for table in metadata.sorted_tables:
            conn.execute(str(CreateTable(table).compile(dialect=_DIALECT)))
        for name, rows in _reference_rows(system, spec).items():
            _insert(conn, tables[name], rows)
        for name, rows in story_rows(spec.as_of)[system].items():
            _insert(conn, tables[name], rows)
            count += len(rows)
        stream, builder = BUILDERS[system]
        for start, stop in chunks(spec.customers):
            shared = base(spec.seed, spec.as_of, start, stop)
            rnd = random.Random(int(chunk_rng(spec.seed, start // CHUNK, stream).integers(2**62)))
            for name, rows in builder(shared, spec.as_of, rnd).items():
                _insert(conn, tables[name], rows)
                count += len(rows)
            if report:
                report(system, stop - start)
        for table in metadata.sorted_tables:
            for index in table.indexes:
                conn.execute(str(CreateIndex(index).compile(dialect=_DIALECT)))
        conn.execute("COMMIT")
        conn.execute("ANALYZE")
    finally:
        conn.close()
    return count


def _worker(system: str, spec: Spec, path: str, updates: mp.Queue) -> None:  # type: ignore[type-arg]
    count = build_system(system, spec, Path(path), lambda s, n: updates.put((s, n)))
    updates.put((system, -count - 1))


def generate(out_dir: Path, spec: Spec, progress: Progress | None = None) -> Report:
    """Build crm.db, billing.db and orders.db in a scratch folder, then swap them in together."""
    spec.check()
    started = time.perf_counter()
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = Path(tempfile.mkdtemp(prefix=".generate-", dir=out_dir))
    try:
        rows = _run_workers(spec, scratch, progress)
        for system in SYSTEM_NAMES:
            (scratch / f"{system}.db").replace(out_dir / f"{system}.db")
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return Report(out_dir, spec.customers, rows, time.perf_counter() - started)


def _run_workers(spec: Spec, scratch: Path, progress: Progress | None) -> dict[str, int]:
    ctx = mp.get_context("fork")
    updates: mp.Queue = ctx.Queue()  # type: ignore[type-arg]
    procs = {
        system: ctx.Process(
            target=_worker, args=(system, spec, str(scratch / f"{system}.db"), updates)
        )
        for system in SYSTEM_NAMES
    }
    for proc in procs.values():
        proc.start()
    rows: dict[str, int] = {}
    while len(rows) < len(procs):
        try:
            system, n = updates.get(timeout=0.5)
        except queue.Empty:
            dead = [s for s, p in procs.items() if s not in rows and not p.is_alive()]
            if dead and updates.empty():
                for proc in procs.values():
                    proc.kill()
                raise RuntimeError(
                    f"generating {', '.join(dead)} failed; see the log above"
                ) from None
            continue
        if n < 0:
            rows[system] = -n - 1
        elif progress:
            progress(system, n)
    for proc in procs.values():
        proc.join()
    return rows


def read_spec(out_dir: Path) -> Spec | None:
    """The spec the databases in out_dir were built from, or None when any is missing."""
    specs = set()
    for system in SYSTEM_NAMES:
        path = out_dir / f"{system}.db"
        if not path.is_file():
            return None
        try:
            with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as conn:
                meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
            specs.add(
                (
                    int(meta["customers"]),
                    int(meta["seed"]),
                    date.fromisoformat(meta["as_of"]),
                    meta["schema_version"],
                    meta.get("generator"),
                )
            )
        except (sqlite3.Error, KeyError, ValueError):
            return None
    if len(specs) != 1:
        return None
    customers, seed, as_of, version, generator = specs.pop()
    current = version == SCHEMA_VERSION and generator == GENERATOR
    return Spec(customers, seed, as_of) if current else None
