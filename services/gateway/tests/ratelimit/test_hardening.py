"""Issue 13 at the gateway: limits before the body is read, X-Forwarded-For only from trusted proxies,
per-address limits for authenticated callers, and /readyz and /metrics not unlimited."""

from __future__ import annotations

import httpx
import pytest

from services.gateway.app.main import create_app
from services.gateway.tests.support import bearer, gateway, gateway_settings, serve
from shared.config import uvicorn_proxy_options
from shared.domain import Role


async def _served(settings, trusted: str):
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        async with serve(app, **uvicorn_proxy_options(trusted)) as url:
            async with httpx.AsyncClient(base_url=url) as client:
                results = []
                for i in range(4):
                    r = await client.get("/api/v1/municipalities?limit=1", headers={"X-Forwarded-For": f"203.0.113.{i}"})
                    results.append(r.status_code)
                return results


async def test_a_rotating_x_forwarded_for_does_not_escape_the_limit() -> None:
    settings = gateway_settings(rate_limit_per_s=0.01, rate_limit_burst=2)
    statuses = await _served(settings, trusted="")
    assert statuses[2:] == [429, 429], statuses  # one bucket: the peer's
    trusted = await _served(gateway_settings(rate_limit_per_s=0.01, rate_limit_burst=2), trusted="127.0.0.1")
    assert 429 not in trusted  # behind a trusted proxy each named client has its own bucket


def test_uvicorn_trusts_forwarded_headers_only_from_the_setting() -> None:
    assert uvicorn_proxy_options("") == {"proxy_headers": False}
    assert uvicorn_proxy_options(" 10.0.0.0/8, 192.168.1.1 ") == {"proxy_headers": True, "forwarded_allow_ips": "10.0.0.0/8,192.168.1.1"}


async def test_many_tokens_from_one_address_share_its_bucket() -> None:
    settings = gateway_settings(rate_limit_per_s=0.01, rate_limit_burst=100, rate_limit_address_per_s=0.01, rate_limit_address_burst=3)
    async with gateway(settings) as client:
        statuses = [
            (await client.get("/api/v1/clock", headers=bearer(settings, Role.investor, "wc-x", sub=f"user-{i}"))).status_code
            for i in range(4)
        ]
    assert statuses[-1] == 429 and 429 not in statuses[:3]


@pytest.mark.parametrize("path", ["/readyz", "/metrics"])
async def test_readiness_and_metrics_are_rate_limited(path) -> None:
    settings = gateway_settings(rate_limit_per_s=0.01, rate_limit_burst=2)
    async with gateway(settings) as client:
        statuses = [(await client.get(path)).status_code for _ in range(3)]
        assert (await client.get("/healthz")).status_code == 200  # liveness stays free
    assert statuses[-1] == 429


async def test_an_anonymous_body_is_small_and_refused_before_authentication() -> None:
    settings = gateway_settings(anonymous_max_body_bytes=1000)
    async with gateway(settings) as client:
        r = await client.post("/api/v1/sites", content=b"x" * 2000, headers={"content-type": "application/json"})
        assert r.status_code == 413 and r.json()["invalidParams"][0]["name"] == "body"
        r = await client.post("/api/v1/sites", content=b"{}", headers={"content-type": "application/json"})
        assert r.status_code == 401  # a small one goes on to authentication
        big = b"x" * (settings.max_body_bytes + 1)
        token = bearer(settings, Role.municipality, "GM0772")
        r = await client.post("/api/v1/sites", content=big, headers={**token, "content-type": "application/json"})
        assert r.status_code == 413


async def test_an_oversized_header_is_431_at_the_gateway() -> None:
    async with gateway(gateway_settings()) as client:
        r = await client.get("/api/v1/municipalities", headers={"X-Correlation-ID": "c" * 1_100_000})
        assert r.status_code == 431
        r = await client.get("/api/v1/municipalities", headers={"X-Correlation-ID": "c" * 500})
        assert r.headers["X-Correlation-ID"] != "c" * 500
