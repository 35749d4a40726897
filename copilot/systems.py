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
