"""Build the siloed systems the settings point at: SQL databases or REST services."""

from __future__ import annotations

from copilot.settings import Settings
from tools.base import Systems
from tools.errors import ConfigurationError


def build_systems(settings: Settings) -> Systems:
    """The three systems, over the backend the settings name."""
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
        return rest_systems(
            {k: v for k, v in urls.items() if v}, token=token, timeout_s=settings.tool_timeout_s
        )
    from tools.sql import sql_systems

    return sql_systems(
        settings.data_dir,
        crm_url=settings.crm_db_url,
        billing_url=settings.billing_db_url,
        orders_url=settings.orders_db_url,
    )


# Port 9 (discard) on loopback: nothing listens there, so a connection is refused at once.
UNREACHABLE_URL = "http://127.0.0.1:9"


def with_outage(systems: Systems, down: list[str]) -> Systems:
    """The same systems with the named ones replaced by a real connector to a dead address.

    Scenarios and drills use it to show how the panel degrades when a system is down.
    """
    if not down:
        return systems
    from tools.rest import rest_systems

    dead = rest_systems(dict.fromkeys(("crm", "billing", "orders"), UNREACHABLE_URL), retries=0)
    return Systems(
        crm=dead.crm if "crm" in down else systems.crm,
        billing=dead.billing if "billing" in down else systems.billing,
        orders=dead.orders if "orders" in down else systems.orders,
    )
