"""The committed public OpenAPI (docs/openapi.json) is the composition of the services' own
documents by the gateway's route table, and every service operation is either public or
deliberately internal."""

from __future__ import annotations

import json
import re

import pytest

from herplaatsing.cli import main
from services.gateway.app.openapi import DOCUMENT_PATH, render
from services.gateway.app.routes import GATEWAY, ROUTES
from herplaatsing.openapi import service_documents

# Service operations the public API deliberately does not expose: the statistics behind the
# dashboards and sites' internal reservation ledger.
NOT_PUBLIC = {
    ("sites", "GET", "/stats/capacity"),
    ("sites", "GET", "/reservations"),
    ("sites", "GET", "/reservations/{}"),
    ("inventory", "GET", "/stats/placements"),
    ("matching", "GET", "/stats/proposals"),
    # dead letters: public through the gateway's own /dead-letters (listed over the services,
    # retry/resolve forwarded to the service named in the path)
    *((service, method, path) for service in ("inventory", "sites", "matching")
      for method, path in (("GET", "/dead-letters"), ("POST", "/dead-letters/{}/retry"), ("POST", "/dead-letters/{}/resolve"))),
}


@pytest.fixture(scope="module")
def documents() -> dict[str, dict]:
    return service_documents()


def shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def test_committed_document_is_the_composition(documents: dict[str, dict]) -> None:
    assert DOCUMENT_PATH.read_text(encoding="utf-8") == render(documents), (
        "docs/openapi.json is out of date: run `herplaatsing openapi` and commit it"
    )
    assert main(["openapi", "--check"]) == 0


def test_every_public_operation_is_documented_for_humans() -> None:
    """A summary a person wrote, a description, and every parameter described: set at the
    source (the services' decorators, Query() and Path()), the composed document shows them."""
    public = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    missing = []
    for path, item in public["paths"].items():
        for method, op in item.items():
            where = f"{method.upper()} {path}"
            summary = op.get("summary", "")
            if not summary or summary.istitle():  # FastAPI's default: the function name in Title Case
                missing.append(f"{where}: summary {summary!r} (FastAPI's automatic one; pass summary=)")
            if not op.get("description", "").strip():
                missing.append(f"{where}: no description (the endpoint's docstring)")
            missing += [
                f"{where}: parameter {p['in']} {p['name']} has no description"
                for p in op.get("parameters", [])
                if not p.get("description", "").strip()
            ]
    assert not missing, "\n".join(missing)


def test_path_ids_and_groups_keep_their_public_names() -> None:
    public = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    ops = {f"{m.upper()} {p}": op for p, item in public["paths"].items() for m, op in item.items()}
    assert {
        key: (op["tags"], op["operationId"])
        for key, op in ops.items()
        if key in {"POST /expiry-scans", "GET /map/sites.geojson", "GET /map/placements.geojson", "POST /sites"}
    } == {
        "POST /expiry-scans": (["clock"], "clock-run_expiry_scan"),
        "GET /map/sites.geojson": (["maps"], "maps-sites_map"),
        "GET /map/placements.geojson": (["maps"], "maps-placements_map"),
        "POST /sites": (["sites"], "sites-publish_site"),
    }
    assert len({op["operationId"] for op in ops.values()}) == len(ops)


def test_every_service_operation_is_routed_or_deliberately_internal(documents: dict[str, dict]) -> None:
    routed = {(row.service, row.method, shape(row.path)) for row in ROUTES if row.service != GATEWAY}
    offered = {
        (service, method.upper(), shape(path.removeprefix("/api/v1")))
        for service, document in documents.items()
        for path, item in document["paths"].items()
        for method in item
    }
    assert not routed & NOT_PUBLIC, "an operation listed as not public has a route"
    assert offered - NOT_PUBLIC == routed, "a service operation has no row in services/gateway/app/routes.py"


def test_public_operations_keep_the_services_query_parameters(documents: dict[str, dict]) -> None:
    public = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))
    for row in ROUTES:
        if row.service == GATEWAY:
            continue
        [service_op] = [
            item[row.method.lower()]
            for path, item in documents[row.service]["paths"].items()
            if shape(path.removeprefix("/api/v1")) == shape(row.path) and row.method.lower() in item
        ]
        public_op = public["paths"][row.path][row.method.lower()]

        def names(op: dict) -> list[tuple[str, str]]:
            return [(p["in"], p["name"]) for p in op.get("parameters", []) if p["in"] != "path"]

        assert names(public_op) == names(service_op), (row.method, row.path)


def test_every_created_answer_declares_its_location(documents: dict[str, dict]) -> None:
    for service, document in documents.items():
        for path, operations in document["paths"].items():
            for method, operation in operations.items():
                created = operation.get("responses", {}).get("201")
                if created is not None:
                    assert "Location" in created.get("headers", {}), f"{service} {method.upper()} {path}"


def test_plot_flags_that_steer_matching_are_described() -> None:
    schemas = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))["components"]["schemas"]
    plot_schemas = [s for s in schemas.values() if "social_rent_only" in s.get("properties", {})]
    assert len(plot_schemas) >= 3  # create, update and the plot as read
    for schema in plot_schemas:
        assert "RTHF" in schema["properties"]["social_rent_only"]["description"]
        assert "permanent" in schema["properties"]["allows_permanent"]["description"]


def test_people_leaving_shelter_or_sheltered_housing_are_their_own_target_group() -> None:
    doelgroep = json.loads(DOCUMENT_PATH.read_text(encoding="utf-8"))["components"]["schemas"]["Doelgroep"]
    assert "uitstroom_opvang" in doelgroep["enum"]
    assert "`uitstroom_opvang` people leaving maatschappelijke opvang or beschermd wonen" in " ".join(doelgroep["description"].split())
