"""The demo silos as small HTTP services, so the REST backend is exercised for real."""

from tools.services.app import DEFAULT_PORTS, SYSTEMS, SystemName, create_system_app, error_response
from tools.services.routes import billing_router, crm_router, orders_router
from tools.services.runner import RunningServices, run_services, start_apps, start_services

__all__ = [
    "DEFAULT_PORTS",
    "SYSTEMS",
    "RunningServices",
    "SystemName",
    "billing_router",
    "create_system_app",
    "crm_router",
    "error_response",
    "orders_router",
    "run_services",
    "start_apps",
    "start_services",
]
