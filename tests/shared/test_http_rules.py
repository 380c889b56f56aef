"""NLGov rules the linter cannot see, on an app built with the shared factory."""

from __future__ import annotations

from fastapi import APIRouter

from herplaatsing.testing import running_app
from shared.config import ServiceSettings
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, encode_cursor

from .conftest import TABLES

PORTAL = "https://portal.example.nl"


def _app(settings: ServiceSettings):
    router = APIRouter(tags=["things"])

    @router.get("/things")
    async def list_things(limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None) -> Page[int]:
        start = 0 if cursor is None else 2
        return Page[int](data=[start, start + 1], next_cursor=encode_cursor([start + 2]) if start == 0 else None)

    @router.get("/broken")
    async def broken() -> dict:
        raise RuntimeError("a bug")

    return create_service_app(ServiceRuntime(settings, TABLES), [router], title="t", description="t")


async def test_security_headers_cors_slashes_head_and_500s(make_settings, committed_databases):
    settings = make_settings(
        ServiceSettings, service_name="sites", database_url=await committed_databases("sites"), cors_origins=PORTAL
    )
    async with running_app(_app(settings)) as client:
        r = await client.get("/api/v1/things")
        assert r.status_code == 200
        assert r.headers["Cache-Control"] == "no-store"
        assert r.headers["Content-Security-Policy"] == "frame-ancestors 'none'"
        assert r.headers["Strict-Transport-Security"].startswith("max-age=")
        assert r.headers["X-Content-Type-Options"] == "nosniff"
        assert r.headers["X-Frame-Options"] == "DENY"
        assert "Access-Control-Allow-Origin" not in r.headers  # no Origin, no CORS

        # CORS: the document for everyone, the API for configured origins only.
        doc = await client.get("/api/v1/openapi.json", headers={"Origin": "https://elsewhere.example"})
        assert doc.headers["Access-Control-Allow-Origin"] == "*"
        other = await client.get("/api/v1/things", headers={"Origin": "https://elsewhere.example"})
        assert "Access-Control-Allow-Origin" not in other.headers
        ours = await client.get("/api/v1/things", headers={"Origin": PORTAL})
        assert ours.headers["Access-Control-Allow-Origin"] == PORTAL and "Origin" in ours.headers["Vary"]
        assert "Link" in ours.headers["Access-Control-Expose-Headers"]
        preflight = await client.options(
            "/api/v1/things", headers={"Origin": PORTAL, "Access-Control-Request-Method": "POST",
                                       "Access-Control-Request-Headers": "authorization,content-type"}
        )
        assert preflight.status_code == 204
        assert preflight.headers["Access-Control-Allow-Origin"] == PORTAL
        assert "PATCH" in preflight.headers["Access-Control-Allow-Methods"]
        assert "Authorization" in preflight.headers["Access-Control-Allow-Headers"]
        refused = await client.options(
            "/api/v1/things", headers={"Origin": "https://elsewhere.example", "Access-Control-Request-Method": "GET"}
        )
        assert refused.status_code == 405 and "Access-Control-Allow-Origin" not in refused.headers

        # A trailing slash is not redirected.
        slash = await client.get("/api/v1/things/")
        assert slash.status_code == 404 and "location" not in slash.headers

        # HEAD answers like GET, without a body.
        head = await client.head("/api/v1/things?limit=2")
        assert head.status_code == 200 and head.content == b""
        assert head.headers["Link"].startswith("</api/v1/things?limit=2>")
        assert head.headers["content-length"] == r.headers["content-length"]

        # An unhandled error keeps the version, the correlation id and the security headers.
        boom = await client.get("/api/v1/broken", headers={"X-Correlation-ID": "trace-500"})
        assert boom.status_code == 500
        assert boom.headers["content-type"] == "application/problem+json"
        assert boom.headers["API-Version"] == "1.2.0" and boom.headers["X-Correlation-ID"] == "trace-500"
        assert boom.headers["X-Frame-Options"] == "DENY"


async def test_list_answers_carry_rfc8288_page_links(make_settings, committed_databases):
    settings = make_settings(ServiceSettings, service_name="sites", database_url=await committed_databases("sites"))
    async with running_app(_app(settings)) as client:
        first = await client.get("/api/v1/things?limit=2")
        cursor = first.json()["next_cursor"]
        assert first.headers["Link"] == (
            '</api/v1/things?limit=2>; rel="self", </api/v1/things?limit=2>; rel="first", '
            f'</api/v1/things?limit=2&cursor={cursor}>; rel="next"'
        )
        second = await client.get("/api/v1/things", params={"limit": 2, "cursor": cursor})
        assert second.json()["next_cursor"] is None
        assert second.headers["Link"] == (
            f'</api/v1/things?limit=2&cursor={cursor}>; rel="self", </api/v1/things?limit=2>; rel="first"'
        )
        assert "Link" not in (await client.get("/healthz")).headers
