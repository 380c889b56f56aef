"""App factory of the matching service (run: uvicorn --factory services.matching.app.main:create_app)."""

from fastapi import FastAPI

from services.matching.app import models  # noqa: F401 - registers the tables on Base
from services.matching.app.config import MatchingSettings
from services.matching.app.db import bus_tables
from services.matching.app.events import HANDLERS
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app


def create_app(settings: MatchingSettings | None = None) -> FastAPI:
    settings = settings or MatchingSettings()
    runtime = ServiceRuntime(settings, bus_tables, handlers=HANDLERS)
    return create_service_app(
        runtime,
        routers=[],
        title="Herplaatsing matching service",
        description="Internal service: the read model of relocation demand and plot supply, the optimiser, proposals and their two-party acceptance.",
    )
