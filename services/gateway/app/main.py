"""App factory of the gateway (run: uvicorn --factory services.gateway.app.main:create_app)."""

from fastapi import FastAPI

from services.gateway.app.config import GatewaySettings
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app


def create_app(settings: GatewaySettings | None = None) -> FastAPI:
    settings = settings or GatewaySettings()
    runtime = ServiceRuntime(settings)
    return create_service_app(
        runtime,
        routers=[],
        title="Herplaatsing API",
        description="One public API for the RVO marktmeester, investors and municipalities.",
    )
