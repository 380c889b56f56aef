"""The public OpenAPI passes the official NLGov API Design Rules linter and keeps its promises."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from services.gateway.app.main import create_app
from services.gateway.tests.support import gateway, gateway_settings

ROOT = Path(__file__).resolve().parents[4]
SPECTRAL = ROOT / "tools" / "spectral" / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / "tools" / "spectral" / "nlgov-adr-linter.yaml"  # official ruleset, copied unchanged (SOURCES.md)

# DESIGN.md's public resources, relative to the server URL /api/v1.
DESIGN_PATHS = {
    "/municipalities": {"get"},
    "/sites": {"get", "post"},
    "/sites/{id}": {"get", "patch", "delete"},
    "/complexes": {"get", "post"},
    "/complexes/{id}": {"get"},
    "/complexes/{id}/units": {"get"},
    "/placements": {"get", "post"},
    "/placements/{id}": {"get"},
    "/proposals": {"get"},
    "/proposals/{id}": {"get"},
    "/proposals/{id}/accept": {"post"},
    "/proposals/{id}/decline": {"post"},
    "/matching/runs": {"get", "post"},
    "/matching/runs/{id}": {"get"},
    "/dashboard/summary": {"get"},
    "/dashboard/forecast": {"get"},
    "/map/sites.geojson": {"get"},
    "/map/placements.geojson": {"get"},
    "/clock": {"get", "patch"},
}
PUBLIC = {("/municipalities", "get"), ("/municipalities/{code}", "get"), ("/sites", "get"), ("/sites/{id}", "get"), ("/map/sites.geojson", "get")}


@pytest.fixture(scope="module")
def served_document() -> dict:
    return json.loads(json.dumps(create_app(gateway_settings()).openapi()))


async def test_document_is_served_at_api_v1_openapi_json(served_document: dict) -> None:
    async with gateway(gateway_settings()) as client:
        r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["API-Version"] == "1.0.0"
    assert r.json() == served_document


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, op


def test_spectral_nlgov_ruleset_reports_no_errors(served_document: dict, tmp_path: Path) -> None:
    assert SPECTRAL.exists(), f"Spectral CLI missing: run `npm ci --prefix tools/spectral` (expected {SPECTRAL})"
    assert RULESET.exists(), RULESET
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(served_document))
    out = subprocess.run(
        [str(SPECTRAL), "lint", "-r", str(RULESET), str(spec), "--format", "json", "--quiet"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    results = json.loads(out.stdout or "[]")
    errors = [f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}" for r in results if r["severity"] == 0]
    assert not errors, "\n".join(errors)
    assert out.returncode == 0, out.stderr


def test_servers_carry_the_major_version_and_paths_are_relative(served_document: dict) -> None:
    assert served_document["servers"][0]["url"] == "/api/v1"
    assert re.fullmatch(r"\d+\.\d+\.\d+", served_document["info"]["version"])
    assert {"name", "url", "email"} <= set(served_document["info"]["contact"])
    for path, methods in DESIGN_PATHS.items():
        assert methods <= set(served_document["paths"][path]), path
    assert not any(p.startswith("/api/") or p.endswith("/") for p in served_document["paths"])


def test_security_per_operation_public_ones_without(served_document: dict) -> None:
    assert served_document["components"]["securitySchemes"]["bearerAuth"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": served_document["components"]["securitySchemes"]["bearerAuth"]["description"],
    }
    for path, method, op in operations(served_document):
        if (path, method) in PUBLIC:
            assert "security" not in op, (path, method)
        else:
            assert op["security"] == [{"bearerAuth": []}], (path, method)
            assert "401" in op["responses"] and "429" in op["responses"]


def test_every_response_documents_api_version_and_errors_are_problems(served_document: dict) -> None:
    for path, method, op in operations(served_document):
        for code, response in op["responses"].items():
            assert "API-Version" in response["headers"], (path, method, code)
            if int(code) >= 400:
                assert response["content"] == {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
        if method in {"post", "patch", "put"} or op.get("parameters"):
            assert "400" in op["responses"], (path, method)
    problem = served_document["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail"} <= set(problem["required"])


def test_schema_names_are_pascal_case_and_fastapi_422_is_gone(served_document: dict) -> None:
    schemas = served_document["components"]["schemas"]
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in schemas), sorted(schemas)
    assert "HTTPValidationError" not in schemas and "PageSite" in schemas
    text = json.dumps(served_document)
    assert "#/components/schemas/Page_" not in text


# Service operations the public API deliberately does not expose: the statistics behind the
# dashboards, the marktmeester's operational triggers and sites' internal reservation ledger.
NOT_PUBLIC = {
    ("sites", "/stats/capacity", "get"),
    ("sites", "/reservations", "get"),
    ("sites", "/reservations/{}", "get"),
    ("inventory", "/stats/placements", "get"),
    ("matching", "/stats/proposals", "get"),
}


def _service_documents() -> dict[str, dict]:
    from services.inventory.app.config import InventorySettings
    from services.inventory.app.main import create_app as inventory_app
    from services.matching.app.config import MatchingSettings
    from services.matching.app.main import create_app as matching_app
    from services.sites.app.config import SitesSettings
    from services.sites.app.main import create_app as sites_app

    unused = {"environment": "test", "database_url": "postgresql://postgres@127.0.0.1:5432/unused"}  # never connected
    return {
        "inventory": inventory_app(InventorySettings(**unused)).openapi(),
        "sites": sites_app(SitesSettings(**unused)).openapi(),
        "matching": matching_app(MatchingSettings(**unused)).openapi(),
    }


def test_every_service_operation_is_public_with_the_same_query_parameters(served_document: dict) -> None:
    """The gateway documents each forwarded operation's filters under the service's own names."""

    def shape(path: str) -> str:
        return re.sub(r"\{[^}]+\}", "{}", path)

    def query_names(op: dict) -> set[str]:
        return {p["name"] for p in op.get("parameters", []) if p["in"] == "query"}

    public = {(shape(path), method): op for path, method, op in operations(served_document)}
    checked = 0
    for service, document in _service_documents().items():
        for path, method, op in operations(document):
            key = (shape(path.removeprefix("/api/v1")), method)
            if (service, *key) in NOT_PUBLIC:
                assert key not in public, f"{key} is listed as not public but the gateway serves it"
                continue
            assert key in public, f"{service} {method.upper()} {path} has no public route"
            assert query_names(public[key]) == query_names(op), (service, key)
            checked += 1
    assert checked >= 20
