"""The app factory every service uses: health, readiness, metrics, logs, problems, versions."""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import AsyncIterator, Callable, Sequence

from fastapi import APIRouter, Depends, FastAPI, Request, Response
from fastapi.routing import APIRoute
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.config import ServiceSettings
from shared.logs import configure_logging, correlation_id, valid_correlation_id
from shared.metrics import HTTP_LATENCY, HTTP_REQUESTS
from shared.runtime import ServiceRuntime
from shared.web import idempotency
from shared.web.limits import InputLimitsMiddleware, Limits
from shared.web.problems import install_problem_handlers, problem_response

API_PREFIX = "/api/v1"
API_VERSION = "1.0.0"
CORRELATION_HEADER = "X-Correlation-ID"


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
        # A caller's id only when it is short and plain: it goes into logs and events.
        cid = valid_correlation_id(Headers(scope=scope).get(CORRELATION_HEADER)) or str(uuid.uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers["API-Version"] = API_VERSION
                headers[CORRELATION_HEADER] = cid
            await send(message)

        try:
            await self.app(scope, receive, send_with_headers)
        finally:
            correlation_id.reset(token)
            path = getattr(scope.get("route"), "path", "unmatched")
            HTTP_REQUESTS.labels(self.service, scope["method"], path, str(status)).inc()
            HTTP_LATENCY.labels(self.service, scope["method"], path).observe(time.perf_counter() - started)


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
        contact={"name": "Herplaatsing team", "url": "https://github.com/herplaatsing", "email": "herplaatsing@example.nl"},
    )
    app.state.settings = settings
    app.state.runtime = runtime
    # Added first, so it runs inside the request context: its refusals carry the correlation id.
    app.add_middleware(InputLimitsMiddleware, limits=limits_of(settings), inspect_json=inspect_json, body_limit=body_limit)
    app.add_middleware(RequestContextMiddleware, service=settings.service_name)
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
        """Readiness: the database and JetStream really answer."""
        checks = await runtime.readiness()
        if all(v == "ok" for v in checks.values()):
            return Response(
                content=f'{{"status":"ready","checks":{_json(checks)}}}', media_type="application/json"
            )
        return problem_response(
            503, "Service unavailable", "Not ready: " + ", ".join(f"{k} {v}" for k, v in checks.items()), request, checks=checks
        )

    @ops.get("/metrics", dependencies=guarded)
    async def metrics() -> Response:
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
