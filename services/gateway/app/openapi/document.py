"""The public OpenAPI document, COMPOSED from the services' own documents and the route table.

`compose(table, documents)` keeps, of each service's document, the operations the table
forwards to it (renamed to their public path), adds the gateway's own operations (its own
document, key "gateway"), merges the schemas they use (a name two services define
differently becomes `<Service><Name>` in both) and post-processes the result so that every
operation follows the NLGov REST API Design Rules (checked in CI by the official Spectral
ruleset, 0 errors):

- `servers: [{url: /api/v1}]` and paths relative to it (major version in the URI);
- an `API-Version` header on every response (the middleware sends it on every response);
- a 400 on every operation that takes input; FastAPI's 422 validation answer removed
  (invalid input is 400 here), a documented 422 (Idempotency-Key reuse) kept;
- every 4xx/5xx as `application/problem+json` with the Problem schema (status, title, detail);
- the bearer (JWT) security scheme, security per operation from its row's access (none on
  public routes, which still accept an optional token), plus the 401/403/429 answers the
  gateway gives and the 503 of a service it cannot reach;
- one tag per operation: the service's (last) tag that names a public group (TAGS), else the
  first path segment; operationIds `<tag>-<the service's function name>`;
- PascalCase schema names (`Page[Site]` becomes `PageSite`), semver `info.version`, contact.
It is a pure function of its inputs: docs/openapi.json is its result, a test keeps them equal.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from services.gateway.app.routes import GATEWAY, Access, Route
from shared.web.app import API_PREFIX, API_VERSION
from shared.web.problems import PROBLEM_JSON, InvalidParam, Problem, problem_example

BEARER = "bearerAuth"
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
SCHEMAS = "#/components/schemas/"
PROBLEM_REF = SCHEMAS + "Problem"
OPTIONAL_TOKEN = "A caller may still send a bearer token (it must then be valid) to be served as their role."

TAGS = [
    {"name": "municipalities", "description": "The 342 CBS municipalities (public)."},
    {"name": "sites", "description": "Plots (kavels), incl. the national garantiekavels, published by municipalities."},
    {"name": "complexes", "description": "Complexes of flexwoningen and their units, registered by investors."},
    {"name": "placements", "description": "Where complexes stand, under which permit, until when."},
    {"name": "proposals", "description": "Relocation proposals and their acceptance by the investor and the municipalities."},
    {"name": "relocations", "description": "Relocation plans: which homes move where, once every party accepted."},
    {"name": "matching", "description": "National matching runs (marktmeester)."},
    {"name": "ledger", "description": "The home ledger (woningregister): every registered home in one lifecycle state."},
    {"name": "dashboard", "description": "National supply and demand for the marktmeester."},
    {"name": "maps", "description": "GeoJSON maps of plots and placements."},
    {"name": "clock", "description": "The product clock: the one date every service treats as today."},
    {"name": "dead-letters", "description": "Events a service could not handle, to retry or resolve (marktmeester)."},
    {"name": "organisations", "description": "The parties: investor organisations registered by the marktmeester, and the municipalities."},
]
PUBLIC_TAGS = {t["name"] for t in TAGS}

HEADERS: dict[str, dict[str, Any]] = {
    "API-Version": {
        "description": "The full version of the API that answered (semver).",
        "schema": {"type": "string", "examples": [API_VERSION]},
    },
    "Retry-After": {
        "description": "Seconds to wait before trying again.",
        "schema": {"type": "integer", "minimum": 0, "examples": [1]},
    },
    "Link": {
        "description": "RFC 8288 links of a page: `self`, `first` and, unless this is the last page, `next`.",
        "schema": {"type": "string", "examples": ['</api/v1/sites?limit=50>; rel="self", </api/v1/sites?limit=50>; rel="first"']},
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
    412: "If-Match names an older version: read the resource again.",
    422: "Idempotency-Key reused with a different request.",
    429: "Too many requests from this caller; see Retry-After.",
    500: "Unexpected error.",
    502: "A service answered with something unexpected.",
    503: "A service is unavailable; the problem names it.",
}

PROBLEM_EXAMPLE = {**problem_example(400), "instance": "/api/v1/sites"}


def compose(table: Iterable[Route], documents: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The public document: `documents` holds each service's OpenAPI and the gateway's own (GATEWAY)."""
    table = list(table)
    own = documents[GATEWAY]
    picked = [(row, _operation(documents[row.service], row)) for row in table]
    renames = _schema_names({s: [op for row, op in picked if row.service == s] for s in {r.service for r in table}}, documents)

    paths: dict[str, Any] = {}
    for row, op in picked:
        _rewrite_refs(op, renames[row.service])
        _public_path_params(op, row.path)
        _fix_operation(op, row)
        paths.setdefault(row.path, {})[row.method.lower()] = op

    schemas: dict[str, Any] = {}
    for service, names in renames.items():
        for name, public_name in names.items():
            schema = copy.deepcopy(documents[service]["components"]["schemas"][name])
            _rewrite_refs(schema, names)
            schemas[public_name] = schema
    used_tags = {op["tags"][0] for item in paths.values() for op in item.values()}
    missing = used_tags - PUBLIC_TAGS
    if missing:
        raise ValueError(f"describe the tags {sorted(missing)} in TAGS")
    doc: dict[str, Any] = {
        "openapi": own["openapi"],
        "info": own["info"],
        "servers": [{"url": API_PREFIX, "description": "This gateway, major version 1 of the API."}],
        "tags": [t for t in TAGS if t["name"] in used_tags],
        "paths": paths,
        "components": {"schemas": dict(sorted(schemas.items()))},
    }
    components = doc["components"]
    _ensure_problem_schema(components["schemas"])
    components["headers"] = HEADERS
    components["securitySchemes"] = {
        BEARER: {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "A JWT with the claims sub, role (marktmeester | investor | municipality) and org.",
        }
    }
    _pascal_case_schema_names(doc)
    _date_fields_carry_format(doc["components"]["schemas"])
    _tuples_carry_items(doc["components"]["schemas"])
    return doc


# -- operations


def _shape(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "{}", path)


def _operation(document: dict[str, Any], row: Route) -> dict[str, Any]:
    """The operation of `document` that serves `row` (same method, same path up to parameter names)."""
    wanted = _shape(row.path)
    for path, item in document.get("paths", {}).items():
        if _shape(path.removeprefix(API_PREFIX)) == wanted and row.method.lower() in item:
            operation = copy.deepcopy(item[row.method.lower()])
            responses = operation.get("responses", {})
            for code in [c for c, r in responses.items() if c == "422" and _is_fastapi_validation(r)]:
                del responses[code]  # invalid input is 400 here; a documented 422 (Idempotency-Key reuse) stays
            return operation
    raise ValueError(f"the {row.service} document has no {row.method} {API_PREFIX}{row.path}")


def _public_path_params(op: dict[str, Any], public_path: str) -> None:
    """The service's own names of path parameters (`site_id`) become the public ones (`id`), in order."""
    names = re.findall(r"\{([^}]+)\}", public_path)
    params = [p for p in op.get("parameters", []) if p.get("in") == "path"]
    if len(params) != len(names):
        raise ValueError(f"{public_path}: the service declares {len(params)} path parameters")
    for param, name in zip(params, names):
        param["name"] = name
        param.get("schema", {}).pop("title", None)


def _fix_operation(op: dict[str, Any], row: Route) -> None:
    responses: dict[str, Any] = op.setdefault("responses", {})
    method = row.method.lower()
    service_tags = op.get("tags") or [""]
    # A service files an operation under a public group with its own tag (the map endpoints
    # under `maps`, /expiry-scans under `clock`); FastAPI lists the operation's tags last.
    public = [t for t in service_tags if t in PUBLIC_TAGS]
    tag = public[-1] if public else row.path.strip("/").split("/")[0]
    op["tags"] = [tag]
    op["operationId"] = f"{tag}-{op.get('operationId', '').removeprefix(service_tags[0] + '-')}"

    access: Access = row.access
    if access.token:
        op["security"] = [{BEARER: []}]
    else:
        op.pop("security", None)
        # Public: no security requirement. A token may still be sent (and must then be valid).
        op["description"] = (op.get("description", "").rstrip() + "\n\nPublic: no token needed. " + OPTIONAL_TOKEN).lstrip()
    responses.setdefault("401", {})
    responses.setdefault("429", {})
    if access.roles:
        responses.setdefault("403", {})
        op["description"] = (op.get("description", "").rstrip() + f"\n\nRoles: {access.describe()}.").lstrip()
    if row.service != GATEWAY:
        responses.setdefault("503", {})  # the gateway's answer when the service cannot be reached

    takes_input = method in {"post", "put", "patch"} or bool(op.get("parameters"))
    if takes_input:
        responses.setdefault("400", {})

    paginated = any(p.get("name") == "cursor" and p.get("in") == "query" for p in op.get("parameters", []))
    for code, response in responses.items():
        status = int(code) if code.isdigit() else 0
        headers = response.setdefault("headers", {})
        headers["API-Version"] = {"$ref": "#/components/headers/API-Version"}
        if status >= 400:
            response["description"] = DESCRIPTIONS.get(status, response.get("description") or "Error")
            response["content"] = {PROBLEM_JSON: {"schema": {"$ref": PROBLEM_REF}, "example": problem_example(status)}}
            if status in (429, 503):
                headers["Retry-After"] = {"$ref": "#/components/headers/Retry-After"}
            if status == 401:
                headers["WWW-Authenticate"] = {"$ref": "#/components/headers/WWW-Authenticate"}
        else:
            response.setdefault("description", "OK")
            _schema_under_declared_media_type(response)
            if status == 200 and paginated:
                headers["Link"] = {"$ref": "#/components/headers/Link"}
    op["responses"] = dict(sorted(responses.items()))


def _schema_under_declared_media_type(response: dict[str, Any]) -> None:
    """A service that answers another media type (GeoJSON) declares it without a schema beside
    FastAPI's JSON entry: the public document states the schema under the real media type."""
    content = response.get("content") or {}
    json_entry = content.get("application/json")
    declared = [media for media, entry in content.items() if media != "application/json" and not entry]
    if json_entry and len(declared) == 1:
        response["content"] = {declared[0]: json_entry}


def _is_fastapi_validation(response: dict[str, Any]) -> bool:
    refs = [m.get("schema", {}).get("$ref", "") for m in response.get("content", {}).values()]
    return any(ref.endswith("/HTTPValidationError") for ref in refs)


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


def _reachable(document: dict[str, Any], roots: list[dict[str, Any]]) -> set[str]:
    """The schema names `roots` use in `document`, directly or through other schemas."""
    schemas = document.get("components", {}).get("schemas", {})
    seen: set[str] = set()
    todo = [ref for root in roots for ref in _refs(root)]
    while todo:
        ref = todo.pop()
        if not ref.startswith(SCHEMAS):
            continue
        name = ref[len(SCHEMAS) :]
        if name not in seen and name in schemas:
            seen.add(name)
            todo.extend(_refs(schemas[name]))
    return seen


def _schema_names(
    operations: dict[str, list[dict[str, Any]]], documents: Mapping[str, dict[str, Any]]
) -> dict[str, dict[str, str]]:
    """Per service: schema name -> public name, for every schema its kept operations use.
    Equal schemas of the same name become one; different ones are prefixed with their service."""
    used = {service: _reachable(documents[service], ops) for service, ops in operations.items()}
    variants: dict[str, set[str]] = {}
    for service, names in used.items():
        for name in names:
            variants.setdefault(name, set()).add(json.dumps(documents[service]["components"]["schemas"][name], sort_keys=True))
    return {
        service: {name: name if len(variants[name]) == 1 else pascal_case(service) + name for name in sorted(used[service])}
        for service in sorted(used)
    }


def _rewrite_refs(node: Any, renames: Mapping[str, str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith(SCHEMAS) and ref[len(SCHEMAS) :] in renames:
            node["$ref"] = SCHEMAS + renames[ref[len(SCHEMAS) :]]
        for value in node.values():
            _rewrite_refs(value, renames)
    elif isinstance(node, list):
        for value in node:
            _rewrite_refs(value, renames)


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


def _each_schema(node: Any, visit: Callable[[dict[str, Any]], None]) -> None:
    """Call `visit` on every JSON object nested in `node`, outermost first."""
    if isinstance(node, dict):
        visit(node)
        for value in node.values():
            _each_schema(value, visit)
    elif isinstance(node, list):
        for value in node:
            _each_schema(value, visit)


def _tuples_carry_items(schemas: dict[str, Any]) -> None:
    """A tuple (`prefixItems`, e.g. a GeoJSON position [x, y]) also states `items`, the schema every element
    meets: OpenAPI 3.0-era tools and `spectral:oas` (array-items) read only `items`."""

    def visit(node: dict[str, Any]) -> None:
        prefix = node.get("prefixItems")
        if isinstance(prefix, list) and "items" not in node:
            kinds = {s.get("type") for s in prefix if isinstance(s, dict)}
            node["items"] = {"type": kinds.pop()} if len(kinds) == 1 and None not in kinds else {}

    _each_schema(schemas, visit)


def _date_fields_carry_format(schemas: dict[str, Any]) -> None:
    def visit(node: dict[str, Any]) -> None:
        for prop, schema in (node.get("properties") or {}).items():
            if (prop in ("date", "datum") or _DATE_NAME.search(prop)) and isinstance(schema, dict) and "format" not in schema:
                formats = {s.get("format") for s in schema.get("anyOf", []) if isinstance(s, dict) and s.get("format")}
                if len(formats) == 1:  # `date | None`: lift the format of the non-null branch
                    schema["format"] = formats.pop()

    _each_schema(schemas, visit)
