"""The app factory every service uses: health, readiness, metrics, logs, problems, versions."""

from __future__ import annotations

import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from opentelemetry.trace import SpanKind
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import API_CONTACT, ServiceSettings
from shared.logs import configure_logging, correlation_id, valid_correlation_id
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.runtime import ServiceRuntime
from shared.tracing import configure_tracing, span
from shared.web import idempotency
from shared.web.http_rules import HttpRulesMiddleware
from shared.web.limits import InputLimitsMiddleware, Limits
from shared.web.problems import install_problem_handlers, problem_response, unhandled_error

API_PREFIX = "/api/v1"
API_VERSION = "1.2.0"  # semver, with CHANGELOG.md
CORRELATION_HEADER = "X-Correlation-ID"
# Probes and scrapes every few seconds would drown the access log.
QUIET_PATHS = frozenset({"/healthz", "/readyz", "/metrics"})
access_log = logging.getLogger("herplaatsing.access")


def operation_id(route: APIRoute) -> str:
    """Stable operationIds (`sites-list_sites`) for generated clients."""
    tag = route.tags[0] if route.tags else "api"
    return f"{tag}-{route.name}"


class RequestContextMiddleware:
    """Correlation id in and out, API-Version on every response, request metrics.

    Plain ASGI rather than BaseHTTPMiddleware: every request passes here (twice when it
    goes through the gateway), and the plain form costs a fraction of the other.
    """

    def __init__(self, app: ASGIApp, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        # A caller's id only when it is short and plain: it goes into logs and events.
        cid = valid_correlation_id(headers.get(CORRELATION_HEADER)) or str(uuid.uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500
        started_response = False

        async def send_with_headers(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                headers = MutableHeaders(scope=message)
                headers["API-Version"] = API_VERSION
                headers[CORRELATION_HEADER] = cid
            await send(message)

        traceparent = headers.get("traceparent")
        parent = {"traceparent": traceparent} if traceparent else None
        try:
            with span(scope["method"], SpanKind.SERVER, parent, **{"http.request.method": scope["method"]}) as current:
                try:
                    await self.app(scope, receive, send_with_headers)
                except Exception:
                    if started_response:
                        raise
                    # Answered here rather than by Starlette's outermost handler, which would
                    # bypass this middleware: the 500 keeps API-Version and the correlation id.
                    await unhandled_error(Request(scope))(scope, receive, send_with_headers)
                route = getattr(scope.get("route"), "path", None)
                current.update_name(f"{scope['method']} {route or scope['path']}")  # the gateway forwards without routes
                if route:
                    current.set_attribute("http.route", route)
                current.set_attribute("http.response.status_code", status)
        finally:
            duration = time.perf_counter() - started
            route = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], route, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], route).observe(duration)
            if scope["path"] not in QUIET_PATHS:
                access_log.info(
                    "%s %s %d", scope["method"], scope["path"], status,
                    extra={"method": scope["method"], "path": scope["path"], "route": route, "status": status,
                           "duration_ms": round(duration * 1000, 2)},
                )
            correlation_id.reset(token)


def create_service_app(
    runtime: ServiceRuntime,
    routers: Sequence[APIRouter],
    *,
    title: str,
    description: str,
    version: str = API_VERSION,
    docs: bool = True,
    inspect_json: bool = True,
    body_limit: Callable[[Scope], int] | None = None,
    ops_guard: Callable[[Request], None] | None = None,
) -> FastAPI:
    """`inspect_json` False and `body_limit` are for the gateway, which forwards bodies unparsed;
    `ops_guard` runs before the deep readiness check and /metrics (the gateway rate-limits them)."""
    settings = runtime.settings
    configure_logging(settings.service_name, settings.log_level, settings.log_json)
    configure_tracing(settings.service_name)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title=title,
        description=description,
        version=version,
        lifespan=lifespan,
        openapi_url=f"{API_PREFIX}/openapi.json",
        docs_url="/docs" if docs else None,
        redoc_url=None,
        generate_unique_id_function=operation_id,
        redirect_slashes=False,  # NLGov: a trailing slash is another (unknown) resource, 404 not 307
        contact=API_CONTACT,
    )
    app.state.settings = settings
    app.state.runtime = runtime
    # Added first, so it runs inside the request context: its refusals carry the correlation id.
    app.add_middleware(InputLimitsMiddleware, limits=limits_of(settings), inspect_json=inspect_json, body_limit=body_limit)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
    # Outermost: a preflight needs no correlation id, and every answer (a 500 too) gets the headers.
    app.add_middleware(
        HttpRulesMiddleware,
        openapi_path=f"{API_PREFIX}/openapi.json",
        cors_origins=[o.strip() for o in settings.cors_origins.split(",") if o.strip()],
    )
    install_problem_handlers(app)
    app.add_exception_handler(idempotency.Replayed, _replay)

    ops = APIRouter(tags=["operations"], include_in_schema=False)
    guarded = [Depends(ops_guard)] if ops_guard else []

    @ops.get("/healthz")
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers (no dependency checks)."""
        return {"status": "ok", "service": settings.service_name}

    @ops.get("/readyz", dependencies=guarded)
    async def readyz(request: Request) -> Response:
        """Readiness: the database answers (503 if not); JetStream down only degrades (200, see README)."""
        checks = await runtime.readiness()
        if not any(v.startswith("unavailable") for v in checks.values()):
            status = "ready" if all(v == "ok" for v in checks.values()) else "degraded"
            return Response(
                content=f'{{"status":"{status}","checks":{_json(checks)}}}', media_type="application/json"
            )
        return problem_response(
            503, "Service unavailable", "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items()), request, checks=checks
        )

    @ops.get("/metrics", dependencies=guarded)
    async def metrics() -> Response:
        await runtime.refresh_metrics()
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    app.include_router(ops)
    for router in routers:
        app.include_router(router, prefix=API_PREFIX)
    return app


def limits_of(settings: ServiceSettings) -> Limits:
    return Limits(
        max_header_bytes=settings.max_header_bytes,
        max_headers_bytes=settings.max_headers_bytes,
        max_body_bytes=settings.max_body_bytes,
        max_json_depth=settings.max_json_depth,
        max_string_chars=settings.max_string_chars,
    )


async def _replay(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, idempotency.Replayed)
    return exc.response


def _json(value: dict[str, str]) -> str:
    import orjson

    return orjson.dumps(value).decode()
