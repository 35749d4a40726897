"""SQL backends (SQLAlchemy): SQLite files by default, PostgreSQL by URL."""

from __future__ import annotations

from pathlib import Path

from tools.base import Systems
from tools.sql.billing import SqlBilling
from tools.sql.crm import SqlCrm
from tools.sql.engine import make_engine, sqlite_url
from tools.sql.orders import SqlOrders


def sql_systems(
    data_dir: Path | None = None,
    *,
    crm_url: str | None = None,
    billing_url: str | None = None,
    orders_url: str | None = None,
) -> Systems:
    """The three systems read straight from their databases; URLs override the SQLite files."""

    def url(system: str, given: str | None) -> str:
        if given:
            return given
        if data_dir is None:
            raise ValueError(f"no database URL for {system} and no data folder")
        return sqlite_url(data_dir, system)

    return Systems(
        crm=SqlCrm(make_engine(url("crm", crm_url))),
        billing=SqlBilling(make_engine(url("billing", billing_url))),
        orders=SqlOrders(make_engine(url("orders", orders_url))),
    )


__all__ = ["SqlBilling", "SqlCrm", "SqlOrders", "sql_systems"]
