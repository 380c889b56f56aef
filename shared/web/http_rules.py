"""NLGov HTTP rules the OpenAPI linter cannot see: security headers, CORS, HEAD, page links.

Plain ASGI like the request context: every request of every service passes here.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.pagination import answered_page, page_links

# Defaults only: a response that sets its own (the dashboard's pages their fuller CSP, static
# assets a public cache lifetime) keeps it.
SECURITY_HEADERS = (
    ("Cache-Control", "no-store"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Strict-Transport-Security", "max-age=31536000; includeSubDomains"),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
)
CORS_METHODS = "GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS"
CORS_REQUEST_HEADERS = "Authorization, Content-Type, Idempotency-Key, If-Match, If-None-Match, X-Correlation-ID, Content-Crs, Accept-Crs"
CORS_EXPOSED_HEADERS = "API-Version, X-Correlation-ID, Location, Link, ETag, Retry-After, Idempotent-Replayed, Content-Crs"
PREFLIGHT_MAX_AGE_S = "600"


class HttpRulesMiddleware:
    """`openapi_path` is readable from any origin; the API only from `cors_origins`."""

    def __init__(self, app: ASGIApp, openapi_path: str, cors_origins: Iterable[str] = ()) -> None:
        self.app = app
        self.openapi_path = openapi_path
        self.cors_origins = frozenset(cors_origins)

    def allowed_origin(self, scope: Scope, origin: str | None) -> str | None:
        if origin is None:
            return None
        if scope["path"] == self.openapi_path:
            return "*"
        return origin if origin in self.cors_origins else None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        allowed = self.allowed_origin(scope, headers.get("origin"))
        if scope["method"] == "OPTIONS" and allowed and "access-control-request-method" in headers:
            await self.preflight(allowed, send)
            return
        head = scope["method"] == "HEAD"
        if head:  # answered as GET wherever GET exists, without the body
            scope = dict(scope, method="GET")

        page: list = []
        token = answered_page.set(page)

        async def send_with_rules(message: Message) -> None:
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                if page and message["status"] == 200:
                    out["Link"] = page_links(scope["path"], scope["query_string"].decode("latin-1"), page[0].next_cursor)
                for name, value in SECURITY_HEADERS:
                    out.setdefault(name, value)
                if allowed:
                    cors_headers(out, allowed)
            elif head and message["type"] == "http.response.body":
                message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, send_with_rules)
        finally:
            answered_page.reset(token)

    async def preflight(self, allowed: str, send: Send) -> None:
        response = MutableHeaders()
        for name, value in SECURITY_HEADERS:
            response[name] = value
        cors_headers(response, allowed)
        response["Access-Control-Allow-Methods"] = CORS_METHODS
        response["Access-Control-Allow-Headers"] = CORS_REQUEST_HEADERS
        response["Access-Control-Max-Age"] = PREFLIGHT_MAX_AGE_S
        response["Content-Length"] = "0"
        await send({"type": "http.response.start", "status": 204, "headers": response.raw})
        await send({"type": "http.response.body", "body": b""})


def cors_headers(out: MutableHeaders, allowed: str) -> None:
    out["Access-Control-Allow-Origin"] = allowed
    out["Access-Control-Expose-Headers"] = CORS_EXPOSED_HEADERS
    if allowed != "*":
        out.add_vary_header("Origin")
