"""RFC 9457 problem details, shaped as the NLGov REST API Design Rules ask.

Invalid input is 400 (not FastAPI's 422) and names every offending field at once in
`invalidParams` ({name, in, code, reason}).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from shared.bus.outbox import EventTooLarge

log = logging.getLogger(__name__)

PROBLEM_JSON = "application/problem+json"
BODY_NOT_PARSED = "There was an error parsing the body"  # FastAPI's HTTPException detail


class InvalidParam(BaseModel):
    name: str = Field(description="The offending field, dotted for nested fields (`readiness.water`).")
    in_: str = Field(alias="in", default="body", description="body, query, path or header")
    code: str = "invalid"
    reason: str

    model_config = {"populate_by_name": True}


class Problem(BaseModel):
    """An RFC 9457 problem; `status`, `title` and `detail` are always present."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str
    instance: str | None = None
    invalidParams: list[InvalidParam] | None = None  # noqa: N815 - NLGov name


class ProblemError(Exception):
    """Raise from anywhere in a request to answer with a problem."""

    def __init__(self, status: int, title: str, detail: str, **extra: Any) -> None:
        super().__init__(detail)
        self.status, self.title, self.detail, self.extra = status, title, detail, extra


class InvalidInput(ProblemError):
    """400 with every offending field; build it from (field, reason) pairs."""

    def __init__(self, params: list[tuple[str, str]] | list[InvalidParam], where: str = "body") -> None:
        items = [p if isinstance(p, InvalidParam) else InvalidParam(name=p[0], reason=p[1], **{"in": where}) for p in params]
        names = ", ".join(p.name for p in items)
        super().__init__(400, "Invalid input", f"The request has invalid fields: {names}.")
        self.params = items


def not_found(what: str, ident: Any) -> ProblemError:
    return ProblemError(404, "Not found", f"No {what} with id {ident}.")


def conflict(detail: str) -> ProblemError:
    return ProblemError(409, "Conflict", detail)


def problem_response(
    status: int, title: str, detail: str, request: Request | None = None, headers: dict[str, str] | None = None, **extra: Any
) -> JSONResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if request is not None:
        body["instance"] = request.url.path
    body.update({k: v for k, v in extra.items() if v is not None})
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _is_tag(part: str) -> bool:
    return part[:1].isupper() or "[" in part or "(" in part


def _field_name(loc: tuple[Any, ...]) -> tuple[str, str]:
    where = str(loc[0]) if loc else "body"
    # pydantic puts union/model tags (`Polygon`, `function-after[...]`) into the location; keep only
    # field names and indexes, so the name is the field a client sent (`boundary.coordinates.0`)
    # (the first part is the parameter or top-level field itself, e.g. a header's `Content-Crs`)
    parts = [str(p) for p in loc[1:2]] + [str(p) for p in loc[2:] if not _is_tag(str(p))]
    name = ".".join(parts) if parts else where
    return where, name


def validation_params(exc: RequestValidationError) -> list[InvalidParam]:
    params = []
    for err in exc.errors():
        # Malformed JSON: FastAPI's location is the byte offset (`body.1`); the offender is the body.
        where, name = ("body", "body") if err.get("type") == "json_invalid" else _field_name(tuple(err.get("loc", ())))
        params.append(InvalidParam(name=name, reason=err.get("msg", "invalid"), code=err.get("type", "invalid"), **{"in": where}))
    return params


def install_problem_handlers(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        params = validation_params(exc)
        names = ", ".join(p.name for p in params)
        return problem_response(
            400,
            "Invalid input",
            f"The request has invalid fields: {names}.",
            request,
            invalidParams=[p.model_dump(by_alias=True) for p in params],
        )

    @app.exception_handler(ProblemError)
    async def _problem(request: Request, exc: ProblemError) -> JSONResponse:
        extra = dict(exc.extra)
        if isinstance(exc, InvalidInput):
            extra["invalidParams"] = [p.model_dump(by_alias=True) for p in exc.params]
        return problem_response(exc.status, exc.title, exc.detail, request, **extra)

    @app.exception_handler(EventTooLarge)
    async def _event_too_large(request: Request, exc: EventTooLarge) -> JSONResponse:
        return problem_response(413, "Content too large", str(exc), request)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 400 and exc.detail == BODY_NOT_PARSED:
            # FastAPI's answer to a body its JSON parser gave up on (e.g. nested too deep): name the body.
            param = InvalidParam(name="body", reason="not valid JSON within the limits", code="json_invalid")
            return problem_response(400, "Invalid input", "The request has invalid fields: body.", request,
                                    invalidParams=[param.model_dump(by_alias=True)])
        titles = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found", 405: "Method not allowed"}
        return problem_response(
            exc.status_code,
            titles.get(exc.status_code, "Error"),
            str(exc.detail),
            request,
            headers=getattr(exc, "headers", None),
        )

    @app.exception_handler(Exception)
    async def _unhandled(request: Request, exc: Exception) -> JSONResponse:
        return unhandled_error(request)


def unhandled_error(request: Request) -> JSONResponse:
    """The 500 of an unexpected exception (logged with its traceback; called inside `except`)."""
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(500, "Internal server error", "An unexpected error occurred.", request)


# OpenAPI: the error responses every operation may give.
def problem_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    descriptions = {
        400: "Invalid input: every offending field is named in invalidParams.",
        401: "Missing or invalid credentials.",
        403: "The caller's role may not do this.",
        404: "Not found (or not visible to the caller).",
        409: "Conflict with the current state.",
        412: "If-Match names an older version: read the resource again.",
        428: "If-Match is required: send the ETag of the version you read.",
        422: "Idempotency-Key reused with a different request.",
        429: "Too many requests.",
        503: "A dependency is unavailable.",
    }
    return {
        code: {
            "model": Problem,
            "description": descriptions.get(code, "Error"),
            "content": {PROBLEM_JSON: {"example": problem_example(code)}},
        }
        for code in codes
    }


# One typical problem per status, so each error response in the document shows its own example.
_EXAMPLES: dict[int, tuple[str, str]] = {
    400: ("Invalid input", "The request has invalid fields: capacity_units."),
    401: ("Unauthorized", "Missing bearer token."),
    403: ("Forbidden", "This operation is for the role(s): marktmeester."),
    404: ("Not found", "No plot with id 3fa85f64-5717-4562-b3fc-2c963f66afa6."),
    409: ("Conflict", "The plot has reservations and cannot be withdrawn."),
    412: ("Precondition failed", "If-Match names version 3; the resource is at version 4."),
    428: ("Precondition required", "Send If-Match with the ETag of the version you read."),
    413: ("Content too large", "The request body is larger than 1048576 bytes."),
    422: ("Idempotency key reused", "Idempotency-Key was used before with a different request."),
    429: ("Too many requests", "Rate limit exceeded; retry after 2 seconds."),
    500: ("Internal server error", "An unexpected error occurred."),
    502: ("Bad gateway", "The sites service answered with an error."),
    503: ("Service unavailable", "The database is unavailable."),
}


def problem_example(code: int) -> dict[str, Any]:
    title, detail = _EXAMPLES.get(code, ("Error", "The request failed."))
    example: dict[str, Any] = {"type": "about:blank", "title": title, "status": code, "detail": detail}
    if code == 400:
        example["invalidParams"] = [{"name": "capacity_units", "in": "body", "code": "greater_than", "reason": "Input should be greater than 0"}]
    return example


def created_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """`problem_responses` for a create: the 201 also declares its `Location` header (NLGov)."""
    location = {"description": "URI of the created resource.", "schema": {"type": "string", "format": "uri-reference"}}
    return {
        201: {"description": "Created; `Location` names the new resource.", "headers": {"Location": location}},
        **problem_responses(*codes),
    }
