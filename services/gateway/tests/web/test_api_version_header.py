"""NLGov: the full API version in a header on every response, whatever its status."""

from __future__ import annotations

from services.gateway.tests.support import bearer, complex_example, gateway
from shared.domain import Role


async def test_api_version_on_every_kind_of_response(echo_upstream) -> None:
    upstream, _, make = echo_upstream
    settings = make(rate_limit_per_s=0.01, rate_limit_burst=12)
    upstream.fail_next[("GET", "/api/v1/sites")] = 10  # the sites service answers 503
    investor = bearer(settings, Role.investor, "wc-woonbron")
    async with gateway(settings) as client:
        responses = {
            "200 public": await client.get("/api/v1/municipalities?limit=1"),
            "200 forwarded": await client.get("/api/v1/proposals", headers=investor),
            "201 forwarded": await client.post("/api/v1/complexes", json=complex_example(), headers=investor),
            "400": await client.get("/api/v1/municipalities?limit=0"),
            "401": await client.get("/api/v1/proposals"),
            "403": await client.get("/api/v1/dashboard/summary", headers=investor),
            "404": await client.get("/api/v1/no-such-resource"),
            "405": await client.put("/api/v1/municipalities"),
            "503": await client.get("/api/v1/sites"),
            "openapi": await client.get("/api/v1/openapi.json"),
            "healthz": await client.get("/healthz"),
        }
        for _ in range(12):
            last = await client.get("/api/v1/municipalities?limit=1")
        responses["429"] = last
    for kind, response in responses.items():
        expected = int(kind.split()[0]) if kind[0].isdigit() else 200
        assert response.status_code == expected, (kind, response.text)
        assert response.headers.get("API-Version") == "1.2.0", kind
