"""The public OpenAPI document, post-processed so that every operation follows the NLGov
REST API Design Rules (checked in CI by the official Spectral ruleset, 0 errors):

- `servers: [{url: /api/v1}]` and paths relative to it (major version in the URI);
- an `API-Version` header on every response (the middleware sends it on every response);
- a 400 on every operation that takes input; FastAPI's 422 validation answer removed
  (invalid input is 400 here), a documented 422 (Idempotency-Key reuse) kept;
- every 4xx/5xx as `application/problem+json` with the Problem schema (status, title, detail);
- the bearer (JWT) security scheme, security per operation derived from the route's real
  auth dependency (none on public routes, which still accept an optional token),
  plus the 401/403/429 answers those dependencies can give;
- PascalCase schema names (`Page[Site]` becomes `PageSite`), semver `info.version`, contact.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute

from services.gateway.app.auth.dependencies import ROLES_MARKER, SECURITY_MARKER
from shared.web.app import API_PREFIX, API_VERSION, operation_id
from shared.web.problems import PROBLEM_JSON, InvalidParam, Problem

BEARER = "bearerAuth"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
PROBLEM_REF = "#/components/schemas/Problem"
OPTIONAL_TOKEN = "A caller may still send a bearer token (it must then be valid) to be served as their role."

TAGS = [
    {"name": "municipalities", "description": "The 342 CBS municipalities (public)."},
    {"name": "sites", "description": "Plots (kavels), incl. the national garantiekavels, published by municipalities."},
    {"name": "complexes", "description": "Complexes of flexwoningen and their units, registered by investors."},
    {"name": "placements", "description": "Where complexes stand, under which permit, until when."},
    {"name": "proposals", "description": "Relocation proposals and their acceptance by the investor and the municipalities."},
    {"name": "relocations", "description": "Relocation plans: which homes move where, once every party accepted."},
    {"name": "matching", "description": "National matching runs (marktmeester)."},
    {"name": "dashboard", "description": "National supply and demand for the marktmeester."},
    {"name": "maps", "description": "GeoJSON maps of plots and placements."},
    {"name": "clock", "description": "The date the system treats as today (demo clock)."},
]

HEADERS: dict[str, dict[str, Any]] = {
    "API-Version": {
        "description": "The full version of the API that answered (semver).",
        "schema": {"type": "string", "examples": [API_VERSION]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0, "examples": [1]},
    },
    "WWW-Authenticate": {
        "description": "The authentication scheme the API expects (Bearer).",
        "schema": {"type": "string", "examples": ['Bearer realm="herplaatsing"']},
    },
}

DESCRIPTIONS = {
    400: "Invalid input: every offending field is named in invalidParams.",
    401: "Missing, expired, malformed or wrongly signed bearer token.",
    403: "The caller's role may not do this.",
    404: "Not found (or not visible to the caller).",
    409: "Conflict with the current state.",
    422: "Idempotency-Key reused with a different request.",
    429: "Too many requests from this caller; see Retry-After.",
    500: "Unexpected error.",
    502: "A service answered with something unexpected.",
    503: "A service is unavailable; the problem names it.",
}

PROBLEM_EXAMPLE = {
    "type": "about:blank",
    "title": "Invalid input",
    "status": 400,
    "detail": "The request has invalid fields: capacity_units.",
    "instance": "/api/v1/sites",
    "invalidParams": [{"name": "capacity_units", "in": "body", "code": "greater_than", "reason": "Input should be greater than 0"}],
}


def install_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> None:
    """Replace `app.openapi` with the post-processed document (built once, then cached).

    `routers` are the public routers; their routes tell each operation's auth dependencies.
    """

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = build_openapi(app, routers)
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def build_openapi(app: FastAPI, routers: Sequence[APIRouter]) -> dict[str, Any]:
    doc = get_openapi(
        title=app.title,
        version=app.version,
        openapi_version=app.openapi_version,
        description=app.description,
        routes=app.routes,
        contact=app.contact,
        tags=TAGS,
    )
    routes = {
        operation_id(route): route for router in routers for route in router.routes if isinstance(route, APIRoute)
    }
    doc["servers"] = [{"url": API_PREFIX, "description": "This gateway, major version 1 of the API."}]
    components = doc.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    _ensure_problem_schema(schemas)
    components.setdefault("headers", {}).update(HEADERS)
    components.setdefault("securitySchemes", {})[BEARER] = {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "A JWT with the claims sub, role (marktmeester | investor | municipality) and org.",
    }

    paths: dict[str, Any] = {}
    for path, item in doc.get("paths", {}).items():
        public_path = path[len(API_PREFIX) :] if path.startswith(API_PREFIX + "/") else path
        for method, operation in item.items():
            if method in METHODS:
                _fix_operation(operation, method, routes.get(operation.get("operationId", "")))
        paths[public_path] = item
    doc["paths"] = paths

    _drop_unused(doc, ("HTTPValidationError", "ValidationError"))
    _pascal_case_schema_names(doc)
    _date_fields_carry_format(doc["components"]["schemas"])
    return doc


# -- operations


def _fix_operation(op: dict[str, Any], method: str, route: APIRoute | None) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    for code in [c for c, r in responses.items() if c == "422" and _is_fastapi_validation(r)]:
        del responses[code]

    security, roles = _auth_of(route) if route is not None else (None, ())
    if security == "required":
        op["security"] = [{BEARER: []}]
    elif security == "optional":
        # Public: no security requirement. A token may still be sent (and must then be valid).
        op["description"] = (op.get("description", "").rstrip() + "\n\nPublic: no token needed. " + OPTIONAL_TOKEN).lstrip()
    if security is not None:
        responses.setdefault("401", {})
        responses.setdefault("429", {})
    if roles:
        responses.setdefault("403", {})
        allowed = ", ".join(roles)
        op["description"] = (op.get("description", "").rstrip() + f"\n\nRoles: {allowed}.").lstrip()

    takes_input = method in {"post", "put", "patch"} or bool(op.get("parameters"))
    if takes_input:
        responses.setdefault("400", {})

    for code, response in responses.items():
        status = int(code) if code.isdigit() else 0
        headers = response.setdefault("headers", {})
        headers["API-Version"] = {"$ref": "#/components/headers/API-Version"}
        if status >= 400:
            response["description"] = DESCRIPTIONS.get(status, response.get("description") or "Error")
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}}}
            if status in (429, 503):
                headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
            if status == 401:
                headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        else:
            response.setdefault("description", "OK")
    op["responses"] = dict(sorted(responses.items()))


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    refs = [m.get("schema", {}).get("$ref", "") for m in response.get("content", {}).values()]
    return any(ref.endswith("/HTTPValidationError") for ref in refs)


def _calls(dependant: Dependant) -> Iterator[Callable[..., Any]]:
    for dep in dependant.dependencies:
        if dep.call is not None:
            yield dep.call
        yield from _calls(dep)


def _auth_of(route: APIRoute) -> tuple[str | None, tuple[str, ...]]:
    """How the route authenticates ("required" / "optional" / None) and which roles it admits."""
    security: str | None = None
    roles: tuple[str, ...] = ()
    for call in _calls(route.dependant):
        marker = getattr(call, SECURITY_MARKER, None)
        if marker == "required" or (marker == "optional" and security is None):
            security = marker
        if hasattr(call, ROLES_MARKER):
            roles = tuple(r.value for r in getattr(call, ROLES_MARKER))
    return security, roles


# -- components


def _ensure_problem_schema(schemas: dict[str, Any]) -> None:
    ref = "#/components/schemas/{model}"
    problem = Problem.model_json_schema(ref_template=ref)
    problem.pop("$defs", None)
    problem["examples"] = [PROBLEM_EXAMPLE]
    schemas["Problem"] = problem
    schemas["InvalidParam"] = InvalidParam.model_json_schema(ref_template=ref, by_alias=True)


def _refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "$ref" and isinstance(value, str):
                yield value
            else:
                yield from _refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from _refs(value)


def _drop_unused(doc: dict[str, Any], names: tuple[str, ...]) -> None:
    schemas = doc["components"]["schemas"]
    for _ in range(len(names)):  # a dropped schema may have been the only user of another
        used = {ref.rsplit("/", 1)[-1] for ref in _refs({k: v for k, v in doc.items() if k != "components"})}
        used |= {
            ref.rsplit("/", 1)[-1] for name, s in schemas.items() if name not in names for ref in _refs(s)
        }
        for name in names:
            if name in schemas and name not in used:
                del schemas[name]


def pascal_case(name: str) -> str:
    parts = [p for p in re.split(r"[^0-9A-Za-z]+", name) if p]
    return "".join(p[0].upper() + p[1:] for p in parts) or name


def _pascal_case_schema_names(doc: dict[str, Any]) -> None:
    schemas: dict[str, Any] = doc["components"]["schemas"]
    renames: dict[str, str] = {}
    taken = set(schemas)
    for name in list(schemas):
        new = pascal_case(name)
        if new == name:
            continue
        candidate, n = new, 2
        while candidate in taken:
            candidate, n = f"{new}{n}", n + 1
        renames[name] = candidate
        taken.add(candidate)
    if not renames:
        return
    doc["components"]["schemas"] = {renames.get(k, k): v for k, v in schemas.items()}
    for new in renames.values():
        doc["components"]["schemas"][new]["title"] = new
    prefix = "#/components/schemas/"

    def rewrite(node: Any) -> None:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(prefix) and ref[len(prefix) :] in renames:
                node["$ref"] = prefix + renames[ref[len(prefix) :]]
            for value in node.values():
                rewrite(value)
        elif isinstance(node, list):
            for value in node:
                rewrite(value)

    rewrite(doc)


# NLGov: a field named like a date (`end_date`, `startDate`, `datum`) states `format: date`.
_DATE_NAME = re.compile(r"((\w+D)|(_[dD]))((ate)|(atum))")


def _date_fields_carry_format(schemas: dict[str, Any]) -> None:
    def visit(node: Any) -> None:
        if isinstance(node, dict):
            for prop, schema in (node.get("properties") or {}).items():
                if (prop in ("date", "datum") or _DATE_NAME.search(prop)) and isinstance(schema, dict) and "format" not in schema:
                    formats = {s.get("format") for s in schema.get("anyOf", []) if isinstance(s, dict) and s.get("format")}
                    if len(formats) == 1:  # `date | None`: lift the format of the non-null branch
                        schema["format"] = formats.pop()
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(schemas)
