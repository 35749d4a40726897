"""Put the story customers back as their stories tell them, after the demo's approvals wrote to
them (autopay updated, the late fee waived, a payment taken, a return started).

Only rows the stories own are touched: the story customers' CRM rows, their billing accounts
and everything keyed by those accounts or their lines, their orders and everything keyed by those
orders. Each database is rewritten in one transaction, and only when a story row differs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ColumnElement, Connection, Engine, Table, false, or_, select
from sqlalchemy.exc import SQLAlchemyError

from tools.demo import COMPANY
from tools.demo.generate import insert_sql, sqlite_rows
from tools.demo.stories import story_rows
from tools.errors import ConfigurationError
from tools.schema import METADATA
from tools.sql.engine import SYSTEM_NAMES, read_meta

STORY_IDS = frozenset(f"CUS-900000{i}" for i in range(1, 7))
# Which key columns tie a row to a story, in the order the keys are derived from each other.
KEYS = (
    "customer_id",
    "crm_customer_id",
    "customer_ref",
    "account_number",
    "line_id",
    "order_number",
)


@dataclass(frozen=True)
class Reset:
    """What a reset found changed and put back: the tables per system (empty: all as told)."""

    as_of: date
    changed: dict[str, list[str]]

    @property
    def restored(self) -> bool:
        return any(self.changed.values())


def story_as_of(engines: Mapping[str, Engine]) -> date:
    """The day the demo data was generated for: the stories are dated from it, not from today."""
    days = set()
    for system, engine in engines.items():
        try:
            with engine.connect() as conn:
                meta = read_meta(conn, system)
        except SQLAlchemyError as exc:  # no meta table, or no database there at all
            raise ConfigurationError(
                f"{system}: {engine.url.render_as_string()} holds no demo data "
                f"({type(exc).__name__}); run `copilot data generate` first"
            ) from None
        if meta.get("company") != COMPANY or "as_of" not in meta:
            raise ConfigurationError(
                f"{system}: {engine.url.render_as_string()} is not {COMPANY}'s demo data; "
                "nothing was reset"
            )
        days.add(meta["as_of"])
    if len(days) != 1:
        raise ConfigurationError(
            f"the databases were generated for different days ({', '.join(sorted(days))}); "
            "run `copilot data generate` again"
        )
    return date.fromisoformat(days.pop())


def reset_stories(engines: Mapping[str, Engine], check_only: bool = False) -> Reset:
    """Restore the story customers' rows in each system where they differ from their story.

    check_only: say what differs and write nothing.
    """
    missing = [s for s in SYSTEM_NAMES if s not in engines]
    if missing:
        raise ConfigurationError(f"no database for {', '.join(missing)}")
    as_of = story_as_of(engines)
    told = story_rows(as_of)
    changed: dict[str, list[str]] = {}
    for system in SYSTEM_NAMES:
        # One transaction per database: its story rows are all put back, or none are.
        with engines[system].begin() as conn:
            changed[system] = _reset_system(conn, system, told[system], check_only)
    return Reset(as_of=as_of, changed=changed)


def _reset_system(
    conn: Connection, system: str, told: Mapping[str, list[tuple[object, ...]]], check_only: bool
) -> list[str]:
    tables = [t for t in METADATA[system].sorted_tables if any(k in t.c for k in KEYS)]
    keys = _story_keys(conn, system, told)
    owned = {t.name: _owned(t, keys) for t in tables}
    differ = [
        t.name
        for t in tables
        if _rows(tuple(r) for r in conn.execute(select(t).where(owned[t.name])))
        != _rows(told.get(t.name, []))
    ]
    if check_only or not differ:
        return differ
    for table in reversed(tables):  # children first: the foreign keys hold throughout
        conn.execute(table.delete().where(owned[table.name]))
    for table in tables:
        rows = told.get(table.name, [])
        if not rows:
            continue
        if conn.dialect.name == "sqlite":  # the very text `copilot data generate` writes
            conn.exec_driver_sql(insert_sql(table), sqlite_rows(table, rows))
        else:
            names = table.c.keys()
            conn.execute(table.insert(), [dict(zip(names, row, strict=True)) for row in rows])
    return differ


def _story_keys(
    conn: Connection, system: str, told: Mapping[str, list[tuple[object, ...]]]
) -> dict[str, set[str]]:
    """The ids the stories own in this system: as written, and as the database has them now."""
    keys: dict[str, set[str]] = {k: set() for k in KEYS}
    for key in ("customer_id", "crm_customer_id", "customer_ref"):
        keys[key] = set(STORY_IDS)
    metadata = METADATA[system]
    for name, key, parent, via in (
        ("accounts", "account_number", "crm_customer_id", STORY_IDS),
        ("lines", "line_id", "account_number", None),
        ("orders", "order_number", "customer_ref", STORY_IDS),
    ):
        table = metadata.tables.get(name)
        if table is None:
            continue
        position = list(table.c.keys()).index(key)
        keys[key] |= {str(row[position]) for row in told.get(name, [])}
        owners = via if via is not None else keys[parent]
        found = conn.execute(select(table.c[key]).where(table.c[parent].in_(sorted(owners))))
        keys[key] |= {str(v) for v in found.scalars()}
    return keys


def _owned(table: Table, keys: Mapping[str, set[str]]) -> ColumnElement[bool]:
    matches = [table.c[k].in_(sorted(keys[k])) for k in KEYS if k in table.c and keys[k]]
    return or_(*matches) if matches else false()


def _rows(rows: Iterable[tuple[object, ...]]) -> list[tuple[object, ...]]:
    """Rows as comparable values, in one order: dates as text, amounts to the cent and beyond."""
    return sorted((tuple(_value(v) for v in row) for row in rows), key=repr)


def _value(value: object) -> object:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, (float, Decimal)):
        return round(float(value), 4)
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    return value
