"""Helpers of the gateway tests: gateway settings, a real HTTP upstream on a free port, tokens."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from herplaatsing.testing import running_app
from services.gateway.app.config import GatewaySettings
from services.gateway.app.main import create_app
from shared.domain import Role
from shared.web.identity import INTERNAL_HEADER, AuthError, mint_user_token, verify_internal_token


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def closed_url() -> str:
    """A URL on which nothing listens (the port was free a moment ago)."""
    return f"http://127.0.0.1:{free_port()}"


def gateway_settings(**overrides: Any) -> GatewaySettings:
    values: dict[str, Any] = {
        "environment": "test",
        "log_json": False,
        "inventory_url": closed_url(),
        "sites_url": closed_url(),
        "matching_url": closed_url(),
        "upstream_backoff_s": 0.01,
        "upstream_connect_timeout_s": 0.5,
        **overrides,
    }
    return GatewaySettings(**values)


def complex_example() -> dict[str, Any]:
    """A complex registration (the gateway forwards it unread; the inventory service validates it)."""
    return {
        "name": "Flexwonen De Meeuw",
        "supplier": "De Meeuw",
        "unit_count": 24,
        "typology": "gestapeld",
        "layers": 2,
        "floor_area_m2": 38,
        "bedrooms": 1,
        "bbl_level": "nieuwbouw",
        "build_year": 2017,
    }


def bearer(settings: GatewaySettings, role: Role | str, org: str | None = None, sub: str = "tester", ttl_s: int | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {mint_user_token(settings, sub, role, org, ttl_s=ttl_s)}"}


@contextlib.asynccontextmanager
async def gateway(settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    async with running_app(create_app(settings), base_url="http://gateway") as client:
        yield client


@contextlib.asynccontextmanager
async def serve(app: FastAPI, **options: Any) -> AsyncIterator[str]:
    """Serve `app` with uvicorn on a free port of 127.0.0.1 in this event loop (`options`: uvicorn.Config's)."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off", timeout_graceful_shutdown=2, **options))
    task = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
        sock.close()


class EchoUpstream:
    """A small real HTTP service that answers every /api/v1 call with what it received.

    It checks the internal credential like a real service; `fail_next[(method, path)] = n`
    answers 503 n times, `slow_paths` sleep past the gateway's timeout, and a few requests
    answer like a service would (201 + Location, 404 problem, 400 problem for `limit=0`).

    It also stands in for the inventory's registry of organisations, which the gateway asks whether an
    investor's organisation is registered and active: every investor org is registered and active,
    except those in `unregistered` and those mapped to False in `active` (`lookups` counts the questions,
    `registry_failures` answers 503 that many times).
    """

    def __init__(self, settings: GatewaySettings) -> None:
        self.settings = settings
        self.calls: Counter[tuple[str, str]] = Counter()
        self.fail_next: Counter[tuple[str, str]] = Counter()
        self.slow_paths: set[str] = set()
        self.ready = True
        self.unregistered: set[str] = set()
        self.active: dict[str, bool] = {}
        self.lookups: Counter[str] = Counter()
        self.registry_failures = 0  # the next lookups that answer 503
        self.app = self._build()

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.get("/readyz")
        async def readyz() -> Response:
            return JSONResponse({"status": "ready"}, status_code=200 if self.ready else 503)

        @app.get("/api/v1/organisations/{org}")
        async def organisation(request: Request, org: str) -> Response:
            verify_internal_token(self.settings, request.headers.get(INTERNAL_HEADER))
            self.lookups[org] += 1
            if self.registry_failures > 0:
                self.registry_failures -= 1
                return JSONResponse({"type": "about:blank", "title": "Service unavailable", "status": 503, "detail": "database down"},
                                    status_code=503, media_type="application/problem+json")
            if org in self.unregistered:
                return JSONResponse({"type": "about:blank", "title": "Not found", "status": 404, "detail": f"No organisation with id {org}."},
                                    status_code=404, media_type="application/problem+json")
            return JSONResponse({"id": org, "role": "investor", "name": org, "kvk_number": "12345678", "kind": "woningcorporatie",
                                 "contact_email": None, "contact_phone": None, "active": self.active.get(org, True), "version": 1})

        @app.api_route("/api/v1/{path:path}", methods=["GET", "POST", "PUT", "PATCH", "DELETE"])
        async def echo(request: Request, path: str) -> Response:
            key = (request.method, request.url.path)
            self.calls[key] += 1
            try:
                principal = verify_internal_token(self.settings, request.headers.get(INTERNAL_HEADER))
            except AuthError as exc:
                return JSONResponse({"title": "Unauthorized", "status": 401, "detail": exc.detail}, status_code=401)
            if self.fail_next[key] > 0:
                self.fail_next[key] -= 1
                return JSONResponse(
                    {"type": "about:blank", "title": "Service unavailable", "status": 503, "detail": "database down"},
                    status_code=503,
                    media_type="application/problem+json",
                )
            if request.url.path in self.slow_paths:
                await asyncio.sleep(1.0)
            if request.url.path.endswith("/missing") or request.url.path.endswith(str(MISSING_ID)):
                return JSONResponse(
                    {"type": "about:blank", "title": "Not found", "status": 404, "detail": "No site with id x.", "instance": request.url.path, "hint": "kept"},
                    status_code=404,
                    media_type="application/problem+json",
                )
            if request.query_params.get("limit") == "0":
                return JSONResponse(
                    {"type": "about:blank", "title": "Invalid input", "status": 400, "detail": "The request has invalid fields: limit.",
                     "invalidParams": [{"name": "limit", "in": "query", "code": "greater_than_equal", "reason": "Input should be >= 1"}]},
                    status_code=400,
                    media_type="application/problem+json",
                )
            body = await request.body()
            echoed = {
                "method": request.method,
                "path": request.url.path,
                "query": request.url.query,
                "principal": {"sub": principal.sub, "role": principal.role.value if principal.role else None, "org": principal.org},
                "idempotency_key": request.headers.get("Idempotency-Key"),
                "correlation_id": request.headers.get("X-Correlation-ID"),
                "content_type": request.headers.get("content-type"),
                "body": (await request.json()) if body else None,
                "attempt": self.calls[key],
            }
            if request.method == "POST" and request.url.path in ("/api/v1/matching/runs", "/api/v1/complexes"):
                new_id = uuid.uuid4()
                return JSONResponse(
                    {**echoed, "id": str(new_id)},
                    status_code=201,
                    headers={"Location": f"http://{request.url.netloc}{request.url.path}/{new_id}"},
                )
            return JSONResponse(echoed)

        return app


MISSING_ID = uuid.UUID("00000000-0000-4000-8000-000000000404")


