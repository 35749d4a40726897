"""Copy a silo's tables from one database to another, e.g. the demo SQLite files into PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Engine, select

from tools.schema import METADATA

BATCH = 5000


def copy_system(
    source: Engine, target: Engine, system: str, progress: Callable[[int], None] | None = None
) -> int:
    """Replace the system's tables in target with source's rows, in one transaction."""
    metadata = METADATA[system]
    count = 0
    with source.connect() as src, target.begin() as dst:
        # Drop and create inside the transaction: PostgreSQL rolls DDL back too, so a failed
        # copy leaves the target as it was.
        metadata.drop_all(dst)
        metadata.create_all(dst)
        for table in metadata.sorted_tables:
            result = src.execution_options(yield_per=BATCH).execute(select(table))
            for rows in result.partitions(BATCH):
                dst.execute(table.insert(), [r._asdict() for r in rows])
                count += len(rows)
                if progress:
                    progress(len(rows))
    return count
