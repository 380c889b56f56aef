"""App factory of the inventory service (run: uvicorn --factory services.inventory.app.main:create_app)."""

from fastapi import FastAPI

from services.inventory.app import models  # noqa: F401 - registers the tables on Base
from services.inventory.app.clock.endpoints import router as clock_router
from services.inventory.app.complexes.endpoints import router as complexes_router
from services.inventory.app.config import InventorySettings
from services.inventory.app.db import bus_tables
from services.inventory.app.events import handlers
from services.inventory.app.expiry.endpoints import router as expiry_router
from services.inventory.app.expiry.service import scan_loop
from services.inventory.app.placements.endpoints import router as placements_router
from services.inventory.app.relocations.endpoints import router as relocations_router
from services.inventory.app.stats.endpoints import router as stats_router
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.dead_letters import dead_letters_router


def create_app(settings: InventorySettings | None = None) -> FastAPI:
    settings = settings or InventorySettings()
    runtime = ServiceRuntime(settings, bus_tables, handlers=handlers, background=[scan_loop])
    return create_service_app(
        runtime,
        routers=[complexes_router, placements_router, expiry_router, relocations_router, clock_router, stats_router, dead_letters_router()],
        title="Herplaatsing inventory service",
        description="Internal service: complexes (batches of identical relocatable homes), units, placements under a permit, the expiry signal and relocation plans.",
    )
