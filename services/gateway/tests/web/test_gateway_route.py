"""GatewayRoute answers every request exactly as FastAPI's own handler would, only faster.

Each request goes through the gateway twice against the same echo upstream: once on the
precomputed path, once with a dependency override in place (GatewayRoute then hands the
request to FastAPI's handler). Status, headers, body and what reached the service must match.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from herplaatsing.testing import running_app
from services.gateway.app import routing
from services.gateway.app.main import create_app
from services.gateway.tests.support import MISSING_ID, bearer
from shared.domain import Role

SITE = uuid.uuid4()


def requests(settings: Any) -> list[tuple[str, str, dict[str, str]]]:
    investor = bearer(settings, Role.investor, "wc-woonbron")
    municipality = bearer(settings, Role.municipality, "GM0772", sub="ambtenaar")
    marktmeester = bearer(settings, Role.marktmeester, None)
    return [
        ("GET", "/api/v1/sites?limit=5", {}),
        ("GET", "/api/v1/sites?limit=5&province=PV30&freeAt=2030-01-01&minFreeUnits=10&sort=distance", investor),
        ("GET", "/api/v1/sites?nearLat=52.09&nearLon=5.12&withinKm=25&sort=distance&limit=50", marktmeester),
        ("GET", "/api/v1/sites?municipality=GM0772&municipality=GM0363&bbox=4.1,51.9,5.2,52.4", municipality),
        ("GET", "/api/v1/sites?limit=0&freeAt=soon&nearLat=200&minFreeUnits=-1&status=gone&kind=", {}),
        ("GET", "/api/v1/sites?limit=abc&cursor=", {"Authorization": "Bearer not-a-jwt"}),
        ("GET", "/api/v1/sites?limit=5", {"Authorization": "Basic dXNlcjpwdw=="}),
        ("GET", f"/api/v1/sites/{SITE}", {}),
        ("GET", f"/api/v1/sites/{MISSING_ID}", investor),
        ("GET", "/api/v1/sites/not-a-uuid", {}),
        ("DELETE", f"/api/v1/sites/{SITE}", municipality),
        ("DELETE", f"/api/v1/sites/{SITE}", investor),
        ("DELETE", "/api/v1/sites/not-a-uuid", {}),
        ("GET", "/api/v1/proposals", {}),
        ("GET", "/api/v1/proposals?status=pending&limit=50", marktmeester),
        ("GET", "/api/v1/proposals?status=bogus&limit=500", investor),
        ("GET", f"/api/v1/proposals?placement={SITE}", municipality),
        ("POST", f"/api/v1/proposals/{SITE}/accept", investor),
        ("POST", f"/api/v1/proposals/{SITE}/accept", marktmeester),
        ("GET", "/api/v1/municipalities?limit=2&province=PV30", {}),
        ("GET", "/api/v1/municipalities/GM07", {}),
        ("GET", "/api/v1/placements?limit=0&expiringBefore=soon&cursor=x", investor),
        ("GET", "/api/v1/complexes?typology=castle&limit=5", marktmeester),
        ("GET", "/api/v1/map/sites.geojson?bbox=1,2", {}),
        ("GET", "/api/v1/map/placements.geojson?status=active", municipality),
        ("GET", "/api/v1/matching/runs", investor),
        ("GET", "/api/v1/clock", marktmeester),
    ]


def comparable(response: httpx.Response) -> tuple[int, dict[str, str], Any]:
    headers = {k: v for k, v in response.headers.items() if k not in ("date", "x-correlation-id")}
    try:
        body = response.json()
    except ValueError:
        return response.status_code, headers, response.content
    if isinstance(body, dict):
        body.pop("attempt", None)  # the echo upstream counts calls per path
        body.pop("correlation_id", None)
    return response.status_code, headers, body


async def test_same_answers_as_fastapis_handler(echo_upstream, monkeypatch) -> None:
    upstream, _, make = echo_upstream
    settings = make(rate_limit_burst=1000)
    precomputed: list[str] = []
    statuses: list[int] = []
    run = routing._Plan.run

    async def counting_run(self: Any, request: Any) -> Any:
        precomputed.append(request.url.path)
        return await run(self, request)

    monkeypatch.setattr(routing._Plan, "run", counting_run)
    app = create_app(settings)
    async with running_app(app, base_url="http://gateway") as client:
        for method, path, headers in requests(settings):
            before = sum(upstream.calls.values())
            ours = await client.request(method, path, headers=headers)
            forwarded_by_ours = sum(upstream.calls.values()) - before
            assert precomputed and precomputed[-1] == path.split("?")[0], f"{method} {path} took FastAPI's handler"

            app.dependency_overrides[comparable] = comparable  # any override: FastAPI solves this request
            before, taken = sum(upstream.calls.values()), len(precomputed)
            fastapis = await client.request(method, path, headers=headers)
            forwarded_by_fastapi = sum(upstream.calls.values()) - before
            app.dependency_overrides.clear()
            assert len(precomputed) == taken
            statuses.append(ours.status_code)

            assert comparable(ours) == comparable(fastapis), f"{method} {path}"
            assert forwarded_by_ours == forwarded_by_fastapi, f"{method} {path}"
    assert len(precomputed) == len(requests(settings))
    # The list covers forwarding and every way a request fails before it is forwarded.
    assert set(statuses) == {200, 400, 401, 403, 404}


async def test_dependency_overrides_still_apply(echo_upstream) -> None:
    """Tests may replace the caller: GatewayRoute must then not resolve the real one."""
    from services.gateway.app.auth import optional_principal
    from shared.web.identity import Principal

    upstream, _, make = echo_upstream
    settings = make()
    app = create_app(settings)

    async def someone() -> Principal:
        return Principal(sub="override", role=Role.marktmeester, org=None)

    app.dependency_overrides[optional_principal] = someone
    async with running_app(app, base_url="http://gateway") as client:
        r = await client.get("/api/v1/sites?limit=1")
    assert r.status_code == 200
    assert r.json()["principal"] == {"sub": "override", "role": "marktmeester", "org": None}
