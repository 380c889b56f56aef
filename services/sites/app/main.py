"""App factory of the sites service (run: uvicorn --factory services.sites.app.main:create_app)."""

from fastapi import FastAPI

from services.sites.app import models  # noqa: F401 - registers the tables on Base
from services.sites.app.config import SitesSettings
from services.sites.app.db import bus_tables
from services.sites.app.events import HANDLERS
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app


def create_app(settings: SitesSettings | None = None) -> FastAPI:
    settings = settings or SitesSettings()
    runtime = ServiceRuntime(settings, bus_tables, handlers=HANDLERS)
    return create_service_app(
        runtime,
        routers=[],
        title="Herplaatsing sites service",
        description="Internal service: municipalities, plots (kavels) including the national garantiekavels, availability windows and capacity reservations.",
    )
