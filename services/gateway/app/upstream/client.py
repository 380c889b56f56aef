"""Calls from the gateway to the three services: one pooled httpx client per service.

`forward` passes a public request 1:1 to the service that owns the resource (the gateway
and the services serve the same `/api/v1/...` paths), adding the caller's identity as
the internal credential. `fetch_json` is for the gateway's own aggregations (dashboards).
A service that cannot be reached, or does not answer in time, becomes a 503 problem that
names it; only idempotent methods are retried, so a POST is never sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

import httpx
from fastapi import Request, Response

from services.gateway.app.config import GatewaySettings
from shared.logs import correlation_id
from shared.web.app import CORRELATION_HEADER
from shared.web.identity import INTERNAL_HEADER, Principal, mint_internal_token
from shared.web.idempotency import HEADER as IDEMPOTENCY_HEADER
from shared.web.problems import ProblemError

log = logging.getLogger(__name__)

Service = Literal["inventory", "sites", "matching"]
SERVICES: tuple[Service, ...] = ("inventory", "sites", "matching")

INTERNAL_TOKEN_TTL_S = 120
TOKEN_CACHE_SIZE = 10_000
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"})
# Response headers a client of the public API needs from the service.
PASSED_BACK_HEADERS = ("location", "retry-after", "etag", "last-modified", "idempotent-replayed")
# Request headers a service needs from the client (besides the identity we mint).
PASSED_ON_HEADERS = ("content-type", "accept", "if-match", "if-none-match", IDEMPOTENCY_HEADER.lower())


class UpstreamUnavailable(ProblemError):
    """The service is down, refused the connection or did not answer in time."""

    def __init__(self, service: str, reason: str) -> None:
        super().__init__(
            503,
            "Service unavailable",
            f"The {service} service is unavailable.",
            headers={"Retry-After": "5"},
            service=service,
            reason=reason,
        )


class UpstreamProblem(ProblemError):
    """The service answered an aggregation call with an error; its problem is passed on."""

    def __init__(self, service: str, status: int, body: Any) -> None:
        body = body if isinstance(body, dict) else {}
        title = str(body.get("title") or "Upstream error")
        detail = str(body.get("detail") or f"The {service} service answered {status}.")
        extra = {k: v for k, v in body.items() if k not in {"type", "title", "status", "detail", "instance"}}
        super().__init__(status, title, detail, **extra)


class Upstreams:
    """The pooled clients, opened in the gateway's lifespan and closed at shutdown.

    `transports` replaces the network for some services (e.g. `httpx.ASGITransport(app=...)`
    to run the real services in the same process in tests); the rest use TCP.
    """

    def __init__(self, settings: GatewaySettings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self.settings = settings
        self.transports = dict(transports or {})
        self.clients: dict[str, httpx.AsyncClient] = {}
        self._tokens: dict[tuple[str, str | None, str | None], tuple[float, str]] = {}

    async def open(self) -> None:
        s = self.settings
        timeout = httpx.Timeout(s.upstream_timeout_s, connect=s.upstream_connect_timeout_s)
        limits = httpx.Limits(max_connections=s.upstream_max_connections, max_keepalive_connections=s.upstream_max_keepalive)
        for service in SERVICES:
            self.clients[service] = httpx.AsyncClient(
                base_url=s.upstream_url(service),
                timeout=timeout,
                limits=limits,
                follow_redirects=False,
                transport=self.transports.get(service),
            )

    async def close(self) -> None:
        clients, self.clients = self.clients, {}
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)

    def client(self, service: str) -> httpx.AsyncClient:
        try:
            return self.clients[service]
        except KeyError:
            raise RuntimeError(f"the upstream client for {service} is not open (gateway lifespan not running)") from None

    async def send(
        self,
        service: str,
        method: str,
        path: str,
        *,
        principal: Principal,
        params: httpx.QueryParams | str | None = None,
        content: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        """One call with the internal identity; retries idempotent methods on connect errors and 503."""
        out = {k: v for k, v in (headers or {}).items()}
        out[INTERNAL_HEADER] = self.internal_token(principal)
        cid = correlation_id.get()
        if cid:
            out[CORRELATION_HEADER] = cid
        client = self.client(service)
        retries = self.settings.upstream_retries if method.upper() in IDEMPOTENT_METHODS else 0
        attempt = 0
        while True:
            try:
                response = await client.request(method, path, params=params, content=content, headers=out)
            except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
                # Nothing reached the service: safe to try again for idempotent methods.
                if attempt >= retries:
                    log.warning("upstream unreachable", extra={"service": service, "error": repr(exc)})
                    raise UpstreamUnavailable(service, "connection failed") from None
            except httpx.TimeoutException:
                # The service may have acted on it: no retry, the client decides (Idempotency-Key).
                log.warning("upstream timed out", extra={"service": service, "path": path})
                raise UpstreamUnavailable(service, "timed out") from None
            except httpx.TransportError as exc:
                log.warning("upstream transport error", extra={"service": service, "error": repr(exc)})
                raise UpstreamUnavailable(service, "connection lost") from None
            else:
                if response.status_code != 503 or attempt >= retries:
                    return response
                await response.aclose()
            attempt += 1
            # Exponential backoff with jitter so replicas do not retry in lockstep.
            await asyncio.sleep(self.settings.upstream_backoff_s * (2 ** (attempt - 1)) * (0.5 + random.random()))

    def internal_token(self, principal: Principal) -> str:
        """The internal credential for `principal`, re-used for half its lifetime (signing costs per request)."""
        key = (principal.sub, principal.role.value if principal.role else None, principal.org)
        now = time.monotonic()
        cached = self._tokens.get(key)
        if cached is not None and cached[0] > now:
            return cached[1]
        if len(self._tokens) >= TOKEN_CACHE_SIZE:
            self._tokens.clear()  # bounded memory; rebuilding is cheap
        token = mint_internal_token(self.settings, principal, ttl_s=INTERNAL_TOKEN_TTL_S)
        self._tokens[key] = (now + INTERNAL_TOKEN_TTL_S / 2, token)
        return token

    async def fetch_json(self, service: str, path: str, principal: Principal, params: dict[str, Any] | None = None) -> Any:
        """GET a JSON document for an aggregation; a service's error answer is passed on as a problem."""
        response = await self.send(service, "GET", path, principal=principal, params=httpx.QueryParams(params or {}))
        try:
            body = response.json() if response.content else None
        except ValueError:
            body = None
        if response.status_code >= 400:
            raise UpstreamProblem(service, response.status_code, body)
        if body is None:
            raise ProblemError(502, "Bad gateway", f"The {service} service answered {path} without a JSON body.")
        return body

    async def readiness(self) -> dict[str, str]:
        async def check(service: str) -> tuple[str, str]:
            try:
                r = await self.client(service).get("/readyz", timeout=self.settings.readiness_timeout_s)
            except httpx.HTTPError as exc:
                return service, f"unavailable: {type(exc).__name__}"
            return service, "ok" if r.status_code == 200 else f"unavailable: HTTP {r.status_code}"

        return dict(await asyncio.gather(*(check(s) for s in SERVICES)))


def upstreams_of(request: Request) -> Upstreams:
    return request.app.state.runtime.upstreams


async def forward(request: Request, service: Service, principal: Principal, path: str | None = None) -> Response:
    """Pass the request on to `service` (same path and query by default) and its answer back as-is."""
    upstreams = upstreams_of(request)
    target = path if path is not None else request.scope.get("raw_path", b"").decode("latin-1") or request.url.path
    headers = {name: value for name in PASSED_ON_HEADERS if (value := request.headers.get(name)) is not None}
    content = await request.body() if request.method in {"POST", "PUT", "PATCH"} else None
    response = await upstreams.send(
        service,
        request.method,
        target,
        principal=principal,
        params=request.url.query or None,
        content=content or None,
        headers=headers,
    )
    passed = {}
    for name in PASSED_BACK_HEADERS:
        value = response.headers.get(name)
        if value is not None:
            passed[name] = _public_location(value) if name == "location" else value
    media_type = response.headers.get("content-type")
    if response.status_code in (204, 304) or request.method == "HEAD":
        return Response(status_code=response.status_code, headers=passed)
    return Response(content=response.content, status_code=response.status_code, media_type=media_type, headers=passed)


def _public_location(value: str) -> str:
    """A service may answer with its own absolute URL; the public one is the same path on the gateway."""
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return value


__all__ = ["SERVICES", "Upstreams", "UpstreamProblem", "UpstreamUnavailable", "forward", "upstreams_of"]
