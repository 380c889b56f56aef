"""What every service's HTTP surface promises: probes, problems, versions, identity."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from herplaatsing.testing import headers_for, running_app
from shared.config import ServiceSettings
from shared.domain import Role
from shared.runtime import ServiceRuntime
from shared.web.app import create_service_app
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import InvalidInput

from .conftest import TABLES


class PlotIn(BaseModel):
    name: str = Field(min_length=1)
    capacity_units: int = Field(gt=0)
    max_layers: int = Field(ge=1, le=6)


def _app(settings: ServiceSettings, tables=TABLES):
    router = APIRouter(tags=["plots"])

    @router.post("/plots", status_code=201)
    async def create_plot(body: PlotIn, principal: CurrentPrincipal) -> dict:
        require_role(principal, Role.municipality)
        if body.name == "taken":
            raise InvalidInput([("name", "already used"), ("capacity_units", "too large for this name")])
        return {"name": body.name, "org": principal.org}

    runtime = ServiceRuntime(settings, tables)
    return create_service_app(runtime, [router], title="t", description="t")


async def test_probes_and_version_header(make_settings, committed_databases):
    settings = make_settings(ServiceSettings, service_name="sites", database_url=await committed_databases("sites"))
    async with running_app(_app(settings)) as client:
        live = await client.get("/healthz")
        assert live.status_code == 200 and live.headers["API-Version"] == "1.2.0"
        await settings_ready(client)
        metrics = await client.get("/metrics")
        assert "http_requests_total" in metrics.text


async def settings_ready(client) -> None:
    from herplaatsing.testing import eventually

    async def ready():
        r = await client.get("/readyz")
        return r.status_code == 200 and r.json()["checks"] == {"database": "ok", "jetstream": "ok", "outbox": "ok"}

    await eventually(ready, timeout=10)


async def test_readiness_fails_when_the_database_is_unreachable(make_settings):
    settings = make_settings(
        ServiceSettings, service_name="sites", database_url="postgresql://postgres@127.0.0.1:1/nowhere"
    )
    async with running_app(_app(settings)) as client:
        r = await client.get("/readyz")
        assert r.status_code == 503
        assert r.headers["content-type"] == "application/problem+json"
        assert r.json()["checks"]["database"].startswith("unavailable")
        assert (await client.get("/healthz")).status_code == 200  # liveness does not depend on the database


async def test_invalid_input_is_400_problem_naming_every_field(make_settings, committed_databases):
    settings = make_settings(ServiceSettings, service_name="sites", database_url=await committed_databases("sites"))
    headers = headers_for(settings, Role.municipality, "GM0200")
    async with running_app(_app(settings)) as client:
        r = await client.post("/api/v1/plots", json={"name": "", "capacity_units": 0, "max_layers": 9}, headers=headers)
        assert r.status_code == 400
        assert r.headers["content-type"] == "application/problem+json"
        body = r.json()
        assert {body["status"], body["title"]} == {400, "Invalid input"} and body["detail"]
        assert {p["name"] for p in body["invalidParams"]} == {"name", "capacity_units", "max_layers"}
        assert r.headers["API-Version"] == "1.2.0"

        domain = await client.post("/api/v1/plots", json={"name": "taken", "capacity_units": 1, "max_layers": 1}, headers=headers)
        assert domain.status_code == 400
        assert [p["name"] for p in domain.json()["invalidParams"]] == ["name", "capacity_units"]

        ok = await client.post("/api/v1/plots", json={"name": "Kavel A", "capacity_units": 5, "max_layers": 2}, headers=headers)
        assert ok.status_code == 201 and ok.json()["org"] == "GM0200"


async def test_services_refuse_calls_without_the_internal_credential(make_settings, committed_databases):
    settings = make_settings(ServiceSettings, service_name="sites", database_url=await committed_databases("sites"))
    body = {"name": "Kavel A", "capacity_units": 5, "max_layers": 2}
    async with running_app(_app(settings)) as client:
        missing = await client.post("/api/v1/plots", json=body)
        assert missing.status_code == 401 and missing.headers["content-type"] == "application/problem+json"
        forged_settings = settings.model_copy(update={"internal_secret": settings.jwt_secret})
        forged = await client.post("/api/v1/plots", json=body, headers=headers_for(forged_settings, Role.municipality, "GM0200"))
        assert forged.status_code == 401
        wrong_role = await client.post("/api/v1/plots", json=body, headers=headers_for(settings, Role.investor, "inv-1"))
        assert wrong_role.status_code == 403


async def test_one_json_access_line_per_request_with_the_correlation_id(make_settings, capfd):
    import json
    import logging

    settings = make_settings(ServiceSettings, service_name="sites", database_url="postgresql://postgres@127.0.0.1:1/nowhere", log_json=True)
    async with running_app(_app(settings)) as client:
        r = await client.post("/api/v1/plots", json={}, headers={"X-Correlation-ID": "corr-access-1"})
        await client.get("/healthz")  # probes are not logged
        logging.getLogger("uvicorn.error").info("Started server process")  # uvicorn's own line
    lines = [json.loads(line) for line in capfd.readouterr().err.splitlines() if line.startswith("{")]
    access = [e for e in lines if e["logger"] == "herplaatsing.access"]
    assert len(access) == 1, access
    (entry,) = access
    assert (entry["method"], entry["path"], entry["status"]) == ("POST", "/api/v1/plots", r.status_code)
    assert entry["correlation_id"] == "corr-access-1" and entry["service"] == "sites" and entry["duration_ms"] >= 0
    assert any(e["logger"] == "uvicorn.error" and e["message"] == "Started server process" for e in lines)
