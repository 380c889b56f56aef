"""The public OpenAPI (docs/openapi.json, served by the gateway) passes the official NLGov API
Design Rules linter and keeps its promises. tests/test_public_openapi.py keeps it equal to the
composition of the services' own documents."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest

from services.gateway.app.openapi import DOCUMENT_PATH
from services.gateway.tests.support import gateway, gateway_settings

ROOT = Path(__file__).resolve().parents[4]
SPECTRAL = ROOT / "tools" / "spectral" / "node_modules" / ".bin" / "spectral"
RULESET = ROOT / "tools" / "spectral" / "nlgov-adr-linter.yaml"  # official ruleset, copied unchanged (SOURCES.md)
OAS_RULESET = ROOT / "tools" / "spectral" / "spectral-oas.yaml"  # Spectral's built-in `spectral:oas`, recommended rules

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
    return json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))


async def test_document_is_served_at_api_v1_openapi_json(served_document: dict) -> None:
    async with gateway(gateway_settings()) as client:
        r = await client.get("/api/v1/openapi.json")
    assert r.status_code == 200 and r.headers["API-Version"] == "1.2.0"
    assert r.json() == served_document


def operations(doc: dict):
    for path, item in doc["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                yield path, method, op


def spectral(document: dict, ruleset: Path, tmp_path: Path, fail: str = "error") -> tuple[list[dict], subprocess.CompletedProcess]:
    """Spectral's findings on the document (severity 0 error, 1 warning, 2 info, 3 hint)."""
    assert SPECTRAL.exists(), f"Spectral CLI missing: run `npm ci --prefix tools/spectral` (expected {SPECTRAL})"
    assert ruleset.exists(), ruleset
    spec = tmp_path / "openapi.json"
    spec.write_text(json.dumps(document))
    out = subprocess.run(
        [str(SPECTRAL), "lint", "-r", str(ruleset), str(spec), "--format", "json", "--quiet", "--fail-severity", fail],
        capture_output=True,
        text=True,
        timeout=120,
    )
    return json.loads(out.stdout or "[]"), out


def _listed(results: list[dict]) -> str:
    return "\n".join(f"{r['code']} at {'.'.join(map(str, r['path']))}: {r['message']}" for r in results)


def test_spectral_nlgov_ruleset_reports_no_errors(served_document: dict, tmp_path: Path) -> None:
    results, out = spectral(served_document, RULESET, tmp_path)
    errors = [r for r in results if r["severity"] == 0]
    assert not errors, _listed(errors)
    assert out.returncode == 0, out.stderr


def test_spectral_oas_ruleset_reports_no_warnings(served_document: dict, tmp_path: Path) -> None:
    """Spectral's built-in OpenAPI rules (`spectral:oas`): not even a warning."""
    results, out = spectral(served_document, OAS_RULESET, tmp_path, fail="warn")
    warnings = [r for r in results if r["severity"] <= 1]
    assert not warnings, _listed(warnings)
    assert out.returncode == 0, out.stderr


def test_the_spectral_oas_check_finds_what_it_is_for(tmp_path: Path) -> None:
    """The check can fail: an operation without operationId, tags or description is reported."""
    bare = {"openapi": "3.1.0", "info": {"title": "x", "version": "1.0.0"}, "paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}}}
    results, out = spectral(bare, OAS_RULESET, tmp_path, fail="warn")
    assert {"operation-operationId", "operation-tags", "operation-description"} <= {r["code"] for r in results}
    assert out.returncode != 0


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
                assert list(response["content"]) == ["application/problem+json"], (path, method, code)
                problem = response["content"]["application/problem+json"]
                assert problem["schema"] == {"$ref": "#/components/schemas/Problem"}
                assert problem["example"]["status"] == int(code), (path, method, code)  # a distinct example per status
        if method in {"post", "patch", "put"} or op.get("parameters"):
            assert "400" in op["responses"], (path, method)
    problem = served_document["components"]["schemas"]["Problem"]
    assert {"status", "title", "detail"} <= set(problem["required"])


def test_schema_names_are_pascal_case_and_fastapi_422_is_gone(served_document: dict) -> None:
    schemas = served_document["components"]["schemas"]
    assert all(re.fullmatch(r"[A-Z][A-Za-z0-9]*", name) for name in schemas), sorted(schemas)
    assert "HTTPValidationError" not in schemas and "PageComplexOut" in schemas and "SitePage" in schemas
    text = json.dumps(served_document)
    assert "#/components/schemas/Page_" not in text
