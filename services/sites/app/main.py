"""App factory of the sites service (run: uvicorn --factory services.sites.app.main:create_app)."""

from fastapi import FastAPI

from services.sites.app import models  # noqa: F401 - registers the tables on Base
from services.sites.app.config import SitesSettings
from services.sites.app.db import bus_tables, clock_table
from services.sites.app.events import handlers
from services.sites.app.municipalities.endpoints import router as municipalities_router
from services.sites.app.reservations.endpoints import router as reservations_router
from services.sites.app.sites.endpoints import router as sites_router
from services.sites.app.stats.endpoints import router as stats_router
from shared.product_clock import restore_clock
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.dead_letters import dead_letters_router


def create_app(settings: SitesSettings | None = None) -> FastAPI:
    settings = settings or SitesSettings()
    runtime = ServiceRuntime(settings, bus_tables, handlers=handlers, startup=[restore_clock(clock_table)])
    return create_service_app(
        runtime,
        routers=[municipalities_router, sites_router, reservations_router, stats_router, dead_letters_router()],
        title="Herplaatsing sites service",
        description="Internal service: municipalities, plots (kavels) including the national garantiekavels, availability windows and capacity reservations.",
    )
