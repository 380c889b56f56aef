"""compose(): the public document from the route table and the services' own documents."""

from __future__ import annotations

from typing import Any

import pytest

from services.gateway.app.openapi import compose
from services.gateway.app.routes import ANY_ROLE, GATEWAY, PUBLIC, Route, only
from shared.domain import Role


def document(paths: dict[str, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    return {"openapi": "3.1.0", "info": {"title": "t", "version": "1.0.0"}, "paths": paths, "components": {"schemas": schemas}}


def op(tag: str, name: str, ref: str, *params: dict[str, Any]) -> dict[str, Any]:
    schema = {"$ref": f"#/components/schemas/{ref}"}
    return {
        "tags": [tag],
        "operationId": f"{tag}-{name}",
        "parameters": list(params),
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {"schema": schema}}},
            "422": {"description": "Validation Error", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/HTTPValidationError"}}}},
        },
    }


def path_param(name: str) -> dict[str, Any]:
    return {"in": "path", "name": name, "required": True, "schema": {"type": "string", "format": "uuid", "title": name}}


DOCUMENTS = {
    GATEWAY: document({}, {}),
    "sites": document(
        {"/api/v1/sites/{site_id}": {"get": op("sites", "get_site", "Site", path_param("site_id"))}},
        {"Site": {"type": "object", "properties": {"kind": {"$ref": "#/components/schemas/Kind"}}},
         "Kind": {"enum": ["a", "b"]}, "Unused": {"type": "string"}, "HTTPValidationError": {"type": "object"}},
    ),
    "inventory": document(
        {"/api/v1/complexes": {"get": op("inventory-complexes", "list_complexes", "Complex")}},
        {"Complex": {"type": "object", "properties": {"kind": {"$ref": "#/components/schemas/Kind"}}}, "Kind": {"enum": ["x"]}},
    ),
}
TABLE = [
    Route("GET", "/sites/{id}", "sites", PUBLIC),
    Route("GET", "/complexes", "inventory", only(Role.investor)),
]


def test_keeps_the_routed_operations_under_their_public_path_and_parameter_names() -> None:
    doc = compose(TABLE, DOCUMENTS)
    assert set(doc["paths"]) == {"/sites/{id}", "/complexes"}
    site = doc["paths"]["/sites/{id}"]["get"]
    assert [p["name"] for p in site["parameters"]] == ["id"]
    assert site["operationId"] == "sites-get_site" and "security" not in site
    assert "422" not in site["responses"] and {"400", "401", "429", "503"} <= set(site["responses"])
    complexes = doc["paths"]["/complexes"]["get"]
    assert complexes["tags"] == ["complexes"] and complexes["operationId"] == "complexes-list_complexes"
    assert complexes["security"] == [{"bearerAuth": []}] and "403" in complexes["responses"]
    assert complexes["description"].endswith("Roles: investor.")


def test_schema_name_clashes_get_the_service_as_prefix_and_unused_schemas_go() -> None:
    doc = compose(TABLE, DOCUMENTS)
    schemas = doc["components"]["schemas"]
    assert {"Site", "Complex", "SitesKind", "InventoryKind", "Problem"} <= set(schemas)
    assert "Kind" not in schemas and "Unused" not in schemas and "HTTPValidationError" not in schemas
    assert schemas["Site"]["properties"]["kind"] == {"$ref": "#/components/schemas/SitesKind"}
    assert schemas["Complex"]["properties"]["kind"] == {"$ref": "#/components/schemas/InventoryKind"}
    same = {**DOCUMENTS, "inventory": document(DOCUMENTS["inventory"]["paths"], {**DOCUMENTS["inventory"]["components"]["schemas"], "Kind": {"enum": ["a", "b"]}})}
    assert "Kind" in compose(TABLE, same)["components"]["schemas"]


def test_a_row_without_a_service_operation_is_an_error() -> None:
    with pytest.raises(ValueError, match="no GET /api/v1/sites"):
        compose([Route("GET", "/sites", "sites", ANY_ROLE)], DOCUMENTS)


def test_the_gateways_own_operations_all_have_a_row() -> None:
    from services.gateway.app.main import create_app
    from services.gateway.app.openapi.public import own_document
    from services.gateway.app.routes import ROUTES
    from services.gateway.tests.support import gateway_settings

    paths = own_document(create_app(gateway_settings()))["paths"]
    own = {(method.upper(), path.removeprefix("/api/v1")) for path, item in paths.items() for method in item}
    assert own == {(row.method, row.path) for row in ROUTES if row.service == GATEWAY}
