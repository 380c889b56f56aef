"""App factory of the gateway (run: uvicorn --factory services.gateway.app.main:create_app)."""

import logging
from collections.abc import Mapping

import httpx
from fastapi import FastAPI
from starlette.types import Scope

from services.gateway.app.auth.dependencies import limit_address
from services.gateway.app.config import GatewaySettings
from services.gateway.app.dashboard.endpoints import router as dashboard_router
from services.gateway.app.dead_letters.endpoints import router as dead_letters_router
from services.gateway.app.openapi import install_openapi
from services.gateway.app.proxy import install_proxy
from services.gateway.app.routes import ROUTES
from services.gateway.app.runtime import GatewayRuntime
from services.gateway.app.web import install_web
from services.gateway.app.web.session import SESSION_COOKIE
from shared.web.app import create_service_app

DESCRIPTION = """One public API for the RVO marktmeester, investors and municipalities: plots, complexes,
placements, relocation proposals, national matching runs and the marktmeester's dashboards.

Every request carries `Authorization: Bearer <JWT>` (claims `sub`, `role`, `org`), except the public
plot listing, the plot map and the municipality list. Investors see and change only their own
organisation's data, municipalities only their own; the marktmeester sees everything.
Errors are RFC 9457 problems (`application/problem+json`); invalid input is 400 naming every field.
Requests are rate limited per caller (token bucket); a 429 says when to retry (`Retry-After`).
Changes per version (semver): [CHANGELOG](/changelog)."""


def body_limit(settings: GatewaySettings, scope: Scope) -> int:
    """The body a request may send: small without credentials (checked before authentication)."""
    for name, value in scope["headers"]:
        # A bearer token, or the dashboard's session cookie (both still verified before the body is read).
        if name == b"authorization" or (name == b"cookie" and SESSION_COOKIE.encode() + b"=" in value):
            return settings.max_body_bytes
    return settings.anonymous_max_body_bytes


def create_app(
    settings: GatewaySettings | None = None, upstream_transports: Mapping[str, httpx.AsyncBaseTransport] | None = None
) -> FastAPI:
    """`upstream_transports` (service name -> httpx transport) replaces the network for those services."""
    settings = settings or GatewaySettings()
    runtime = GatewayRuntime(settings, upstream_transports)
    app = create_service_app(
        runtime,
        routers=[dashboard_router, dead_letters_router],
        title="Herplaatsing API",
        description=DESCRIPTION,
        docs=False,
        inspect_json=False,  # bodies go to the services as bytes; they inspect them
        body_limit=lambda scope: body_limit(settings, scope),
        ops_guard=limit_address,  # /readyz fans out to three services: not free for anyone
    )
    install_proxy(app, ROUTES)
    install_openapi(app)
    install_web(app)  # the dashboard at / and Swagger UI at /docs, from local assets
    # httpx/httpcore log per upstream call: keep them to warnings on the hot path.
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
    return app
