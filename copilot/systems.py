"""Build the siloed systems the settings point at: SQL databases or REST services."""

from __future__ import annotations

import shutil
from dataclasses import replace
from pathlib import Path

from copilot.settings import Settings
from tools.actions import RoutedActions
from tools.base import Systems
from tools.errors import ConfigurationError

SYSTEM_FILES = ("crm", "billing", "orders")


def build_systems(settings: Settings) -> Systems:
    """The three systems and their write actions, over the backend the settings name."""
    if settings.backend == "rest":
        from tools.rest import rest_systems

        urls = {
            "crm": settings.crm_api_url,
            "billing": settings.billing_api_url,
            "orders": settings.orders_api_url,
        }
        missing = [f"COPILOT_{k.upper()}_API_URL" for k, v in urls.items() if not v]
        if missing:
            raise ConfigurationError(f"backend=rest needs {', '.join(missing)}")
        token = settings.systems_token.get_secret_value() if settings.systems_token else None
        systems = rest_systems(
            {k: v for k, v in urls.items() if v}, token=token, timeout_s=settings.tool_timeout_s
        )
        return with_rest_actions(systems)
    from tools.sql import SqlBilling, SqlOrders, sql_systems
    from tools.sql.actions import SqlActions

    systems = sql_systems(
        settings.data_dir,
        crm_url=settings.crm_db_url,
        billing_url=settings.billing_db_url,
        orders_url=settings.orders_db_url,
    )
    billing, orders = systems.billing, systems.orders
    if not isinstance(billing, SqlBilling) or not isinstance(orders, SqlOrders):
        raise TypeError("sql_systems built systems that are not SQL")
    # The same engines as the reads, so the panel sees an action's write at once.
    return replace(systems, actions=SqlActions(billing.engine, orders.engine))


def with_rest_actions(systems: Systems) -> Systems:
    """REST systems with write actions over the same clients (and so the same breakers)."""
    from tools.rest import RestBilling, RestOrders
    from tools.rest.actions import RestActions

    billing, orders = systems.billing, systems.orders
    if not isinstance(billing, RestBilling) or not isinstance(orders, RestOrders):
        raise TypeError("with_rest_actions needs REST billing and orders")
    return replace(systems, actions=RestActions(billing.client, orders.client))


# Port 9 (discard) on loopback: nothing listens there, so a connection is refused at once.
UNREACHABLE_URL = "http://127.0.0.1:9"


def with_outage(systems: Systems, down: list[str]) -> Systems:
    """The same systems with the named ones replaced by a real connector to a dead address.

    Scenarios and drills use it to show how the panel degrades when a system is down.
    """
    if not down:
        return systems
    from tools.rest import rest_systems

    dead = with_rest_actions(
        rest_systems(dict.fromkeys(("crm", "billing", "orders"), UNREACHABLE_URL), retries=0)
    )
    actions = systems.actions
    if actions is not None and dead.actions is not None:
        actions = RoutedActions(
            billing=dead.actions if "billing" in down else actions,
            orders=dead.actions if "orders" in down else actions,
        )
    return Systems(
        crm=dead.crm if "crm" in down else systems.crm,
        billing=dead.billing if "billing" in down else systems.billing,
        orders=dead.orders if "orders" in down else systems.orders,
        actions=actions,
    )


def embedded(settings: Settings) -> bool:
    """The systems are the demo's SQLite files in data_dir (which a replay may copy)."""
    if settings.backend != "sql" or any(
        (settings.crm_db_url, settings.billing_db_url, settings.orders_db_url)
    ):
        return False
    return all((Path(settings.data_dir) / f"{name}.db").exists() for name in SYSTEM_FILES)


def private_copy(settings: Settings, folder: Path) -> Settings | None:
    """Settings over a copy of the embedded demo databases in folder, for a replay that writes
    (approvals) without touching the data it was given; None where the data is not embedded."""
    if not embedded(settings):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    for name in SYSTEM_FILES:
        shutil.copy(Path(settings.data_dir) / f"{name}.db", folder / f"{name}.db")
    return settings.model_copy(update={"data_dir": folder})
