"""The committed public document: generated from the services' documents, served as-is.

`write(service_documents)` composes docs/openapi.json from the three services' own OpenAPI
documents (their apps' `openapi()`, handed in by the caller: the gateway imports no service)
and the gateway's own operations. The gateway serves that file at /api/v1/openapi.json;
`openapi.json` beside this module links to it, so the package ships it.
A test fails when the committed file differs from the composition.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

from services.gateway.app.openapi.document import compose
from services.gateway.app.routes import GATEWAY, ROUTES

DOCUMENT_PATH = Path(__file__).resolve().parents[4] / "docs" / "openapi.json"  # in the repository
SERVED_PATH = Path(__file__).parent / "openapi.json"  # the same file, as packaged


def own_document(app: FastAPI) -> dict[str, Any]:
    """The gateway's own operations (dashboards) and the API's info, as FastAPI documents them."""
    return get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,  # the forwarding routes are not FastAPI's: only the gateway's own appear
        contact=app.contact,
    )


def public_document(service_documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    from services.gateway.app.config import GatewaySettings
    from services.gateway.app.main import create_app

    app = create_app(GatewaySettings(environment="test", log_json=False))
    return compose(ROUTES, {**service_documents, GATEWAY: own_document(app)})


def render(service_documents: Mapping[str, dict[str, Any]]) -> str:
    return json.dumps(public_document(service_documents), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def write(service_documents: Mapping[str, dict[str, Any]], path: Path = DOCUMENT_PATH) -> Path:
    path.write_text(render(service_documents), encoding="utf-8")
    return path


def install_openapi(app: FastAPI) -> None:
    """`app.openapi()` (and so /api/v1/openapi.json and /docs) answer the committed document."""

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = json.loads(SERVED_PATH.read_bytes())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
