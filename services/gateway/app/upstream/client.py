"""Calls from the gateway to the three services: one connection pool per service.

`forward` passes a public request 1:1 to the service that owns the resource (the gateway
and the services serve the same `/api/v1/...` paths), adding the caller's identity as
the internal credential; the service's answer goes back as bytes, never re-encoded.
`fetch_json` is for the gateway's own aggregations (dashboards).
A service that cannot be reached, or does not answer in time, becomes a 503 problem that
names it; only idempotent methods are retried, and only when nothing reached the service
(or it answered 503), so a POST is never sent twice.
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import quote, urlencode, urlsplit

import httpcore
import httpx
import orjson
from fastapi import Request, Response

from services.gateway.app.config import GatewaySettings
from shared.logs import correlation_id
from shared.metrics import UPSTREAM_CIRCUIT_OPEN
from shared.tracing import current_traceparent
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
PASSED_BACK_HEADERS = ("location", "retry-after", "etag", "last-modified", "idempotent-replayed", "link", "content-crs")
# Request headers a service needs from the client (besides the identity we mint).
PASSED_ON_HEADERS = (
    "content-type", "accept", "if-match", "if-none-match", IDEMPOTENCY_HEADER.lower(), "content-crs", "accept-crs",
)
_PASSED_ON = frozenset(name.encode("latin-1") for name in PASSED_ON_HEADERS)
_INTERNAL_HEADER = INTERNAL_HEADER.lower().encode("latin-1")
_CORRELATION_HEADER = CORRELATION_HEADER.lower().encode("latin-1")
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})


class UpstreamError(Exception):
    """A call to a service failed at the transport level."""


class ConnectFailed(UpstreamError):
    """No connection could be opened (refused, unreachable, connect timeout): nothing reached the service."""


class ResponseTimeout(UpstreamError):
    """The service did not answer in time (or no pooled connection became free in time)."""


class ConnectionLost(UpstreamError):
    """The connection broke before a whole answer arrived: the service may have acted on the request."""


@dataclass(slots=True)
class UpstreamResponse:
    """A service's whole answer; header names are lower case, repeated headers joined by ', '."""

    status_code: int
    headers: dict[str, str] = field(default_factory=dict)
    content: bytes = b""

    def json(self) -> Any:
        return orjson.loads(self.content)


class ServiceClient:
    """One service: a request in wire form (method, percent-encoded target, raw headers, body
    bytes) in, its whole answer out. Subclasses send it over TCP or through a given transport."""

    def __init__(self, url: str, connect_timeout_s: float) -> None:
        self.base = httpx.URL(url)
        self.connect_timeout_s = connect_timeout_s

    def timeouts(self, timeout_s: float) -> dict[str, float]:
        return {"connect": min(self.connect_timeout_s, timeout_s), "read": timeout_s, "write": timeout_s, "pool": timeout_s}

    async def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None, timeout_s: float
    ) -> UpstreamResponse:
        raise NotImplementedError

    async def aclose(self) -> None:
        raise NotImplementedError


class PooledServiceClient(ServiceClient):
    """The service over TCP: an httpcore connection pool, the one under httpx's own transport.

    The gateway already has the target in wire form; httpx would parse and re-validate it as a
    URL and wrap request and answer in its models on every call (~0.15 ms of CPU per call,
    bench/gateway_overhead.py), which buys nothing here.
    """

    def __init__(self, url: str, connect_timeout_s: float, max_connections: int, max_keepalive: int) -> None:
        super().__init__(url, connect_timeout_s)
        self.scheme, self.host, self.port = self.base.raw_scheme, self.base.raw_host, self.base.port
        self.pool = httpcore.AsyncConnectionPool(
            max_connections=max_connections,
            max_keepalive_connections=max_keepalive,
            keepalive_expiry=5.0,  # httpx's default
            retries=0,  # retries are ours: only idempotent calls, with backoff
        )

    async def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None, timeout_s: float
    ) -> UpstreamResponse:
        url = httpcore.URL(scheme=self.scheme, host=self.host, port=self.port, target=target)
        try:
            response = await self.pool.request(
                method, url, headers=headers, content=body, extensions={"timeout": self.timeouts(timeout_s)}
            )
        except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
            raise ConnectFailed(repr(exc)) from None
        except httpcore.TimeoutException as exc:  # read, write or pool timeout
            raise ResponseTimeout(repr(exc)) from None
        except (httpcore.NetworkError, httpcore.ProtocolError) as exc:
            raise ConnectionLost(repr(exc)) from None
        answer: dict[str, str] = {}
        for raw_name, raw_value in response.headers:
            name, value = raw_name.decode("latin-1").lower(), raw_value.decode("latin-1")
            answer[name] = f"{answer[name]}, {value}" if name in answer else value
        return UpstreamResponse(response.status, answer, response.content)

    async def aclose(self) -> None:
        await self.pool.aclose()


class TransportServiceClient(ServiceClient):
    """The service behind a given httpx transport (e.g. `httpx.ASGITransport(app=...)` running
    the real service in the same process in tests)."""

    def __init__(self, url: str, transport: httpx.AsyncBaseTransport, connect_timeout_s: float) -> None:
        super().__init__(url, connect_timeout_s)
        self.transport = transport

    async def request(
        self, method: str, target: bytes, headers: list[tuple[bytes, bytes]], body: bytes | None, timeout_s: float
    ) -> UpstreamResponse:
        request = httpx.Request(
            method, self.base.copy_with(raw_path=target), headers=headers, content=body, extensions={"timeout": self.timeouts(timeout_s)}
        )
        try:
            response = await self.transport.handle_async_request(request)
            try:
                content = await response.aread()
            finally:
                await response.aclose()
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise ConnectFailed(repr(exc)) from None
        except httpx.TimeoutException as exc:  # read, write or pool timeout
            raise ResponseTimeout(repr(exc)) from None
        except httpx.TransportError as exc:
            raise ConnectionLost(repr(exc)) from None
        return UpstreamResponse(response.status_code, dict(response.headers.items()), content)

    async def aclose(self) -> None:
        await self.transport.aclose()


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


class CircuitBreaker:
    """Fail fast for a service that keeps failing, instead of waiting out the timeout on every call.

    Closed: calls go through. After `failures` transport failures in a row: open, every call is
    refused at once. After `cooldown_s`: one trial call goes through (half open); it closes the
    circuit on success and re-opens it on failure. A call that gets any HTTP answer is a success.
    """

    def __init__(self, service: str, failures: int, cooldown_s: float) -> None:
        self.service, self.threshold, self.cooldown_s = service, failures, cooldown_s
        self.failures = 0
        self.opened_at: float | None = None
        self.trial_running = False

    @property
    def is_open(self) -> bool:
        return self.opened_at is not None

    def allow(self) -> bool:
        if self.opened_at is None:
            return True
        if self.trial_running or time.monotonic() - self.opened_at < self.cooldown_s:
            return False
        self.trial_running = True
        return True

    def succeeded(self) -> None:
        if self.opened_at is not None:
            log.info("upstream circuit closed", extra={"service": self.service})
        self.failures, self.opened_at, self.trial_running = 0, None, False
        UPSTREAM_CIRCUIT_OPEN.labels(self.service).set(0)

    def failed(self) -> None:
        self.failures += 1
        if self.opened_at is not None or self.failures >= self.threshold:
            if self.opened_at is None:
                log.warning("upstream circuit opened", extra={"service": self.service, "failures": self.failures})
            self.opened_at, self.trial_running = time.monotonic(), False
            UPSTREAM_CIRCUIT_OPEN.labels(self.service).set(1)


class Upstreams:
    """The connection pools, opened in the gateway's lifespan and closed at shutdown.

    `transports` replaces the network for some services (e.g. `httpx.ASGITransport(app=...)`
    to run the real services in the same process in tests); the rest use TCP.
    """

    def __init__(self, settings: GatewaySettings, transports: Mapping[str, httpx.AsyncBaseTransport] | None = None) -> None:
        self.settings = settings
        self.transports = dict(transports or {})
        self.clients: dict[str, ServiceClient] = {}
        self.breakers = {
            service: CircuitBreaker(service, settings.circuit_failures, settings.circuit_cooldown_s) for service in SERVICES
        }
        self._tokens: dict[tuple[str, str | None, str | None], tuple[float, str]] = {}

    async def open(self) -> None:
        s = self.settings
        for service in SERVICES:
            url, transport = s.upstream_url(service), self.transports.get(service)
            self.clients[service] = (
                TransportServiceClient(url, transport, s.upstream_connect_timeout_s)
                if transport is not None
                else PooledServiceClient(url, s.upstream_connect_timeout_s, s.upstream_max_connections, s.upstream_max_keepalive)
            )

    async def close(self) -> None:
        clients, self.clients = self.clients, {}
        await asyncio.gather(*(c.aclose() for c in clients.values()), return_exceptions=True)

    def client(self, service: str) -> ServiceClient:
        try:
            return self.clients[service]
        except KeyError:
            raise RuntimeError(f"the upstream client for {service} is not open (gateway lifespan not running)") from None

    async def send(
        self,
        service: str,
        method: str,
        target: bytes | str,
        *,
        principal: Principal,
        content: bytes | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        timeout_s: float | None = None,
    ) -> UpstreamResponse:
        """One call with the internal identity; retries idempotent methods on connect errors and 503.

        `target` is the path with its query, percent-encoded as it goes on the wire; `timeout_s` overrides
        `upstream_timeout_s` for this call.
        """
        out = list(headers or ())
        out.append((_INTERNAL_HEADER, self.internal_token(principal).encode("latin-1")))
        cid = correlation_id.get()
        if cid:
            out.append((_CORRELATION_HEADER, cid.encode("latin-1")))
        traceparent = current_traceparent()  # W3C trace context: the service continues the gateway's trace
        if traceparent:
            out.append((b"traceparent", traceparent.encode("latin-1")))
        if isinstance(target, str):
            target = target.encode("ascii")
        client, breaker = self.client(service), self.breakers[service]
        retries = self.settings.upstream_retries if method.upper() in IDEMPOTENT_METHODS else 0
        attempt = 0
        while True:
            if not breaker.allow():  # failing fast: no connect attempt, no timeout to wait out
                raise UpstreamUnavailable(service, "circuit open")
            try:
                try:
                    response = await client.request(method, target, out, content, timeout_s or self.settings.upstream_timeout_s)
                except UpstreamError:
                    breaker.failed()
                    raise
                breaker.succeeded()
            except ConnectFailed as exc:
                # Nothing reached the service: safe to try again for idempotent methods.
                if attempt >= retries:
                    log.warning("upstream unreachable", extra={"service": service, "error": str(exc)})
                    raise UpstreamUnavailable(service, "connection failed") from None
            except ResponseTimeout:
                # The service may have acted on it: no retry, the client decides (Idempotency-Key).
                log.warning("upstream timed out", extra={"service": service, "path": target.decode("latin-1")})
                raise UpstreamUnavailable(service, "timed out") from None
            except ConnectionLost as exc:
                log.warning("upstream transport error", extra={"service": service, "error": str(exc)})
                raise UpstreamUnavailable(service, "connection lost") from None
            else:
                if response.status_code != 503 or attempt >= retries:
                    return response
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
        target = f"{path}?{urlencode(params, doseq=True)}" if params else path
        response = await self.send(service, "GET", target, principal=principal)
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
        """Each service's readiness, as a detail: a service that is down or slow degrades the
        gateway (its routes answer 503) but does not take the gateway out of rotation."""

        async def check(service: str) -> tuple[str, str]:
            try:
                r = await self.client(service).request("GET", b"/readyz", [], None, self.settings.readiness_timeout_s)
            except UpstreamError as exc:
                return service, f"degraded: {type(exc).__name__}"
            if r.status_code != 200:
                return service, f"degraded: HTTP {r.status_code}"
            return service, "degraded: circuit open" if self.breakers[service].is_open else "ok"

        return dict(await asyncio.gather(*(check(s) for s in SERVICES)))


def upstreams_of(request: Request) -> Upstreams:
    return request.app.state.runtime.upstreams


async def forward(
    request: Request, service: Service, principal: Principal, path: str | None = None, timeout_s: float | None = None
) -> Response:
    """Pass the request on to `service` and its answer back as-is.

    By default to the same path and query; `path` (percent-encoded) replaces the path, not the query.
    `timeout_s`: how long to wait for the answer (default: the gateway's `upstream_timeout_s`).
    """
    scope = request.scope
    method: str = scope["method"]
    if path is None:
        target: bytes = scope.get("raw_path") or quote(scope["path"]).encode("ascii")
    else:
        target = path.encode("ascii")
    query: bytes = scope.get("query_string", b"")
    if query:
        target += b"?" + query  # as the client encoded it: the service parses the same bytes
    passed_on: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _PASSED_ON:
            passed_on.setdefault(name, value)  # the first one, as request.headers.get would
    content = await request.body() if method in _BODY_METHODS else None
    response = await upstreams_of(request).send(
        service, method, target, principal=principal, content=content or None, headers=list(passed_on.items()),
        timeout_s=timeout_s,
    )
    upstream_headers = response.headers
    passed = {}
    for name in PASSED_BACK_HEADERS:
        value = upstream_headers.get(name)
        if value is not None:
            passed[name] = _public_location(value) if name == "location" else value
    if response.status_code in (204, 304) or method == "HEAD":
        return Response(status_code=response.status_code, headers=passed)
    return Response(
        content=response.content, status_code=response.status_code, media_type=upstream_headers.get("content-type"), headers=passed
    )


def _public_location(value: str) -> str:
    """A service may answer with its own absolute URL; the public one is the same path on the gateway."""
    parts = urlsplit(value)
    if parts.scheme and parts.netloc:
        return parts.path + (f"?{parts.query}" if parts.query else "")
    return value


__all__ = [
    "SERVICES",
    "Service",
    "ServiceClient",
    "UpstreamProblem",
    "UpstreamResponse",
    "UpstreamUnavailable",
    "Upstreams",
    "forward",
    "upstreams_of",
]
