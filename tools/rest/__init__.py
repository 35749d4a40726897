"""REST backends: each silo read through its own HTTP service (see tools.services)."""

from __future__ import annotations

import httpx

from tools.base import Systems
from tools.errors import ConfigurationError
from tools.rest.billing import RestBilling
from tools.rest.client import CircuitBreaker, RestClient
from tools.rest.crm import RestCrm
from tools.rest.orders import RestOrders

SYSTEM_NAMES = ("crm", "billing", "orders")


def rest_systems(
    urls: dict[str, str],
    *,
    token: str | None = None,
    timeout_s: float = 2.0,
    retries: int = 2,
    backoff_s: float = 0.05,
    breaker_threshold: int = 5,
    breaker_reset_s: float = 10.0,
    transport: httpx.AsyncBaseTransport | None = None,
) -> Systems:
    """The three systems over HTTP, one pooled client and circuit breaker per system."""
    missing = [name for name in SYSTEM_NAMES if not urls.get(name)]
    if missing:
        raise ConfigurationError(f"no service URL for {', '.join(missing)}")

    def client(system: str) -> RestClient:
        return RestClient(
            system,
            urls[system],
            token=token,
            timeout_s=timeout_s,
            retries=retries,
            backoff_s=backoff_s,
            breaker=CircuitBreaker(breaker_threshold, breaker_reset_s),
            transport=transport,
        )

    return Systems(
        crm=RestCrm(client("crm")),
        billing=RestBilling(client("billing")),
        orders=RestOrders(client("orders")),
    )


__all__ = [
    "CircuitBreaker",
    "RestBilling",
    "RestClient",
    "RestCrm",
    "RestOrders",
    "rest_systems",
]
