"""`GatewayRoute`: FastAPI's answers for the gateway's routes, with its per-request bookkeeping done once.

The gateway's routes only authenticate, validate the query and forward. For such a route
FastAPI works out again on every request what kind of parameter each field is, where to
find it and whether it is a list (typing introspection, 15 query fields on GET /sites),
and runs a general dependency solver for a tree that is always the same. Timed in-process
against a canned upstream answer, that was ~0.3 of the gateway's ~0.5 ms for a GET /sites.

For a route that needs nothing else, `GatewayRoute` works that out once, when the route is
built, and per request does what FastAPI would: the dependencies in FastAPI's order (each
at most once per request), then path, query and header parameters validated by the same
pydantic fields, every error collected into one RequestValidationError (so the same 400
problem), then the endpoint. Anything else (a body, cookies, yield dependencies, endpoints
that do not return a Response, dependency overrides) goes to FastAPI's own handler.
services/gateway/tests/web/test_gateway_route.py checks that both give the same answers.

It uses FastAPI internals (pinned in pyproject.toml); if they change, routes fall back to
FastAPI's handler rather than break.
"""

from __future__ import annotations

import inspect
import logging
import typing
from collections.abc import Awaitable, Callable, Container, Coroutine
from dataclasses import dataclass
from enum import Enum
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.datastructures import Headers, ImmutableMultiDict

log = logging.getLogger(__name__)

try:  # FastAPI internals (0.165): what FastAPI itself calls per request
    from fastapi._compat.shared import field_annotation_is_sequence
    from fastapi.dependencies.models import Dependant
    from fastapi.dependencies.utils import (
        _get_param_aliases,
        _get_param_model,
        _is_json_field,
        _validate_value_with_model_field,
    )
    from fastapi.params import Param
    from fastapi.routing import _effective_route_context_var
    from pydantic_core import PydanticUndefined as Undefined
except ImportError:  # pragma: no cover - a FastAPI upgrade moved them: use FastAPI's handler
    _INTERNALS = False
else:
    _INTERNALS = True

Handler = Callable[[Request], Coroutine[Any, Any, Response]]
_NO_SHARED_DEFAULT = object()
_IMMUTABLE_DEFAULTS = (type(None), bool, int, float, str, bytes, Enum)


@dataclass(frozen=True, slots=True)
class _Param:
    """One path/query/header parameter, with what FastAPI would derive from it per request."""

    field: Any  # fastapi ModelField
    name: str
    aliases: tuple[tuple[str, str], ...]
    location: str  # "path" | "query" | "header", the first item of an error's loc
    list_lookup: bool  # read every value of a repeated key (getlist)
    list_annotation: bool  # an empty list counts as missing
    # When absent: the default as-is if FastAPI's deepcopy of it could not differ (None, 50, "x").
    shared_default: Any

    def read(self, received: Any, present: Container[str], values: dict[str, Any], errors: list[Any]) -> None:
        # Same steps as fastapi.dependencies.utils.request_params_to_args for a plain field;
        # `present` answers `key in received` without Mapping.get's KeyError for absent keys.
        aliases = self.aliases
        alias = aliases[0][1]
        if len(aliases) > 1:
            alias = next((request_key for _, request_key in aliases if request_key in present), alias)
        if alias not in present:
            value = None  # what get() answers, and getlist() == [] counts as missing below too
        elif self.list_lookup and isinstance(received, (ImmutableMultiDict, Headers)):
            value = received.getlist(alias)
        else:
            value = received.get(alias, None)
        if value is None or (self.list_annotation and len(value) == 0):
            if self.shared_default is not _NO_SHARED_DEFAULT:
                values[self.name] = self.shared_default  # most query parameters of a request are absent
                return
            value = Undefined
        validated, field_errors = _validate_value_with_model_field(
            field=self.field, value=value, values=values, loc=(self.location, alias)
        )
        if field_errors:
            errors.extend(field_errors)
        else:
            values[self.name] = validated


@dataclass(frozen=True, slots=True)
class _Dependency:
    """A dependency whose only inputs are the request and other such dependencies."""

    call: Callable[..., Awaitable[Any]]
    name: str | None
    request_param: str | None
    dependencies: tuple[_Dependency, ...]
    use_cache: bool

    async def solve(self, request: Request, cache: dict[Any, Any]) -> Any:
        # FastAPI's order: this dependency's own dependencies first, then the cache, then the call.
        kwargs = {}
        for sub in self.dependencies:
            value = await sub.solve(request, cache)
            if sub.name is not None:
                kwargs[sub.name] = value
        if self.use_cache and self.call in cache:
            return cache[self.call]
        if self.request_param is not None:
            kwargs[self.request_param] = request
        value = await self.call(**kwargs)
        cache.setdefault(self.call, value)
        return value


@dataclass(frozen=True, slots=True)
class _Plan:
    endpoint: Callable[..., Awaitable[Response]]
    request_param: str | None
    dependencies: tuple[_Dependency, ...]
    path_params: tuple[_Param, ...]
    query_params: tuple[_Param, ...]
    header_params: tuple[_Param, ...]

    async def run(self, request: Request) -> Response:
        cache: dict[Any, Any] = {}
        values: dict[str, Any] = {}
        for dependency in self.dependencies:
            value = await dependency.solve(request, cache)
            if dependency.name is not None:
                values[dependency.name] = value
        errors: list[Any] = []
        if self.path_params:
            path_params = request.path_params  # a dict
            for param in self.path_params:
                param.read(path_params, path_params, values, errors)
        if self.query_params:
            query_params = request.query_params
            present = query_params.keys()  # a dict's keys: exact, case-sensitive like QueryParams
            for param in self.query_params:
                param.read(query_params, present, values, errors)
        if self.header_params:
            headers = request.headers  # case-insensitive: it is its own `present`
            for param in self.header_params:
                param.read(headers, headers, values, errors)
        if errors:
            raise RequestValidationError(errors, body=None)
        if self.request_param is not None:
            values[self.request_param] = request
        response = await self.endpoint(**values)
        if not isinstance(response, Response):
            raise TypeError(f"{self.endpoint.__qualname__} is declared to return a Response but returned {type(response)}")
        return response


class GatewayRoute(APIRoute):
    """An APIRoute with a precomputed request handler when the route allows it (see the module doc)."""

    def get_route_handler(self) -> Handler:
        fastapi_handler = super().get_route_handler()
        if not _INTERNALS:
            return fastapi_handler  # pragma: no cover
        # The route as included (prefix, router dependencies), as FastAPI's handler sees it.
        context = _effective_route_context_var.get()
        route = context if context is not None and context.original_route is self else self
        try:
            plan = _plan(route.dependant, route.body_field)
        except Exception:  # pragma: no cover - an unforeseen shape: FastAPI's handler is always right
            log.exception("no precomputed handler for %s", self.path)
            plan = None
        if plan is None:
            return fastapi_handler
        overrides_provider = route.dependency_overrides_provider

        async def handler(request: Request) -> Response:
            if overrides_provider is not None and getattr(overrides_provider, "dependency_overrides", None):
                return await fastapi_handler(request)  # tests replace dependencies: FastAPI resolves them
            return await plan.run(request)

        return handler


def _plan(dependant: Dependant, body_field: Any) -> _Plan | None:
    call = dependant.call
    if body_field is not None or dependant.body_params or dependant.cookie_params or not _plain(dependant):
        return None
    if not inspect.iscoroutinefunction(call) or not _returns_response(call):
        return None
    dependencies = tuple(_dependency(sub) for sub in dependant.dependencies)
    if any(d is None for d in dependencies):
        return None
    path_params = tuple(_param(f) for f in dependant.path_params)
    query_params = tuple(_param(f) for f in dependant.query_params)
    header_params = tuple(_param(f) for f in dependant.header_params)
    if None in path_params or None in query_params or None in header_params:
        return None
    return _Plan(
        endpoint=call,
        request_param=dependant.request_param_name,
        dependencies=dependencies,  # type: ignore[arg-type]
        path_params=path_params,  # type: ignore[arg-type]
        query_params=query_params,  # type: ignore[arg-type]
        header_params=header_params,  # type: ignore[arg-type]
    )


def _plain(dependant: Dependant) -> bool:
    """No special parameters (websocket, response, background tasks, security scopes, concurrency)."""
    return (
        dependant.websocket_param_name is None
        and dependant.http_connection_param_name is None
        and dependant.response_param_name is None
        and dependant.background_tasks_param_name is None
        and dependant.security_scopes_param_name is None
        and not dependant.own_oauth_scopes
        and not dependant.parent_oauth_scopes
        and getattr(dependant, "concurrency", None) is None
    )


def _dependency(dependant: Dependant) -> _Dependency | None:
    call = dependant.call
    if (
        not inspect.iscoroutinefunction(call)  # sync (thread pool) and generator dependencies: FastAPI's handler
        or dependant.path_params
        or dependant.query_params
        or dependant.header_params
        or dependant.cookie_params
        or dependant.body_params
        or not _plain(dependant)
    ):
        return None
    subs = tuple(_dependency(sub) for sub in dependant.dependencies)
    if any(s is None for s in subs):
        return None
    return _Dependency(call, dependant.name, dependant.request_param_name, subs, dependant.use_cache)  # type: ignore[arg-type]


def _param(field: Any) -> _Param | None:
    if _get_param_model(field) is not None or not isinstance(field.field_info, Param):
        return None  # a parameter model (several fields read as one): FastAPI's handler
    info = field.field_info
    list_annotation = field_annotation_is_sequence(info.annotation)
    shared_default = _NO_SHARED_DEFAULT
    if not info.is_required() and info.default_factory is None and not info.validate_default:
        if isinstance(info.default, _IMMUTABLE_DEFAULTS):
            shared_default = info.default
    return _Param(
        field=field,
        name=field.name,
        aliases=tuple(_get_param_aliases(field)),
        location=info.in_.value,
        list_lookup=list_annotation and not _is_json_field(field),
        list_annotation=list_annotation,
        shared_default=shared_default,
    )


def _returns_response(call: Callable[..., Any]) -> bool:
    try:
        annotation = typing.get_type_hints(call).get("return")
    except Exception:  # noqa: BLE001 - unresolvable hints: do not guess
        return False
    return isinstance(annotation, type) and issubclass(annotation, Response)


__all__ = ["GatewayRoute"]
