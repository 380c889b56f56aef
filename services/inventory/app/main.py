"""App factory of the inventory service (run: uvicorn --factory services.inventory.app.main:create_app)."""

from fastapi import FastAPI

from services.inventory.app import models  # noqa: F401 - registers the tables on Base
from services.inventory.app.config import InventorySettings
from services.inventory.app.db import bus_tables
from services.inventory.app.events import HANDLERS
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    runtime = ServiceRuntime(settings, bus_tables, handlers=HANDLERS)
    return create_service_app(
        runtime,
        routers=[],
        title="Herplaatsing inventory service",
        description="Internal service: complexes (batches of identical relocatable homes), units, placements under a permit, the expiry signal and relocation plans.",
    )
