"""Limits before work: header and body sizes, JSON shape, NUL bytes — checked before any parsing.

One plain ASGI middleware in every service and the gateway. It answers RFC 9457 problems that
name the offending part (431 header, 413 body, 414/400 query, 400 JSON field) before an endpoint,
a validator or the database sees the input, so no request can stall the event loop with a huge
body or turn into a 500 deep inside pydantic, hashing or PostgreSQL.

- headers: each value and the whole block are bounded (431);
- body: Content-Length above the limit is refused before a byte is read; a body without one
  (chunked) is counted while it streams and refused as soon as it passes the limit (413). The
  gateway passes a lower limit for callers without credentials;
- JSON (`inspect_json`, the services): parsed once with orjson (C, depth-limited), then every
  value is checked: nesting depth, string length, NUL bytes, integers within 64 bits, finite
  numbers. The endpoint then parses the same bytes as before;
- query string and path: NUL bytes are refused, the query string's length is bounded, a query
  key given twice is refused (no operation takes a list there; the last would silently win).
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, unquote_to_bytes

import orjson
from pydantic import AfterValidator
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.web.problems import PROBLEM_JSON, ProblemError

INT64 = (-(2**63), 2**63 - 1)


@dataclass(frozen=True, slots=True)
class Limits:
    max_header_bytes: int = 8 * 1024  # one header value
    max_headers_bytes: int = 32 * 1024  # all names and values together
    max_body_bytes: int = 1024 * 1024
    max_query_bytes: int = 4 * 1024
    max_json_depth: int = 32
    max_string_chars: int = 10_000


class PayloadTooLarge(ProblemError):
    def __init__(self, limit: int) -> None:
        super().__init__(413, "Content too large", f"The request body is larger than {limit} bytes.", invalidParams=[_param("body", "body", "too_large", f"at most {limit} bytes")])


def _param(name: str, where: str, code: str, reason: str) -> dict[str, str]:
    return {"name": name, "in": where, "code": code, "reason": reason}


def _problem(status: int, title: str, detail: str, *params: dict[str, str]) -> dict[str, Any]:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if params:
        body["invalidParams"] = list(params)
    return body


def header_problem(scope: Scope, limits: Limits) -> dict[str, Any] | None:
    total = 0
    for name, value in scope["headers"]:
        total += len(name) + len(value)
        if len(value) > limits.max_header_bytes:
            header = name.decode("latin-1")
            reason = f"at most {limits.max_header_bytes} bytes"
            return _problem(431, "Request header fields too large", f"The {header} header is too large ({reason}).", _param(header, "header", "too_large", reason))
    if total > limits.max_headers_bytes:
        reason = f"at most {limits.max_headers_bytes} bytes of headers in all"
        return _problem(431, "Request header fields too large", f"The request headers are too large ({reason}).", _param("headers", "header", "too_large", reason))
    return None


def query_problem(scope: Scope, limits: Limits) -> dict[str, Any] | None:
    raw: bytes = scope.get("query_string", b"")
    if len(raw) > limits.max_query_bytes:
        reason = f"at most {limits.max_query_bytes} bytes"
        return _problem(414, "URI too long", f"The query string is too long ({reason}).", _param("query", "query", "too_large", reason))
    if b"\x00" in unquote_to_bytes(scope.get("raw_path") or scope["path"].encode()) or "\x00" in scope["path"]:
        return _problem(400, "Invalid input", "The path contains a NUL byte.", _param("path", "path", "nul", "contains a NUL byte"))
    if raw and (b"%00" in raw or b"\x00" in raw):
        names = [k for k, v in parse_qsl(raw.decode("latin-1"), keep_blank_values=True) if "\x00" in k or "\x00" in v]
        params = [_param(n.replace("\x00", "\\0") or "query", "query", "nul", "contains a NUL byte") for n in names or ["query"]]
        return _problem(400, "Invalid input", "The request has invalid fields: " + ", ".join(p["name"] for p in params) + ".", *params)
    repeated = _repeated_keys(raw)
    if repeated:
        # No operation takes a list in the query: a second value would silently win over (or hide) the first.
        params = [_param(k[:200], "query", "repeated", "given more than once; give it once") for k in repeated]
        return _problem(400, "Invalid input", "The request has invalid fields: " + ", ".join(p["name"] for p in params) + ".", *params)
    return None


def _repeated_keys(raw: bytes) -> list[str]:
    """Query keys given more than once (after percent-decoding, as the endpoints read them)."""
    seen: set[str] = set()
    repeated: list[str] = []
    for key, _ in parse_qsl(raw.decode("latin-1"), keep_blank_values=True):
        if key in seen and key not in repeated:
            repeated.append(key)
        seen.add(key)
    return repeated


def json_problem(body: bytes, limits: Limits) -> dict[str, Any] | None:
    """Why a JSON body is refused before the endpoint parses it (None: it may go on)."""
    try:
        value = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        # Malformed, deeper than orjson's own limit, or an integer beyond 64 bits.
        reason = f"not valid JSON within the limits: {exc.msg}"
        return _problem(400, "Invalid input", "The request has invalid fields: body.", _param("body", "body", "json_invalid", reason))
    found = _walk(value, "", 1, limits)
    if found is None:
        return None
    name, code, reason = found
    return _problem(400, "Invalid input", f"The request has invalid fields: {name}.", _param(name, "body", code, reason))


def _walk(value: Any, path: str, depth: int, limits: Limits) -> tuple[str, str, str] | None:
    """The first offending value as (dotted field, code, reason); iterative enough for depth 32."""
    if isinstance(value, str):
        return _string(value, path or "body", limits)
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int):
        if not INT64[0] <= value <= INT64[1]:
            return (path or "body", "out_of_range", "integer outside the 64-bit range")
        return None
    if isinstance(value, float):
        # orjson reads an integer literal beyond 64 bits as a float: refuse both beyond that range.
        if not math.isfinite(value) or abs(value) >= 2.0**63:
            return (path or "body", "out_of_range", "number outside the 64-bit range")
        return None
    if depth > limits.max_json_depth:
        return (path or "body", "too_deep", f"nested deeper than {limits.max_json_depth} levels")
    if isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{key}" if path else key
            found = _string(key, child, limits) or _walk(item, child, depth + 1, limits)
            if found:
                return (found[0].replace("\x00", "\\0")[:200], found[1], found[2])
        return None
    for index, item in enumerate(value):
        found = _walk(item, f"{path}.{index}" if path else str(index), depth + 1, limits)
        if found:
            return found
    return None


def _string(value: str, path: str, limits: Limits) -> tuple[str, str, str] | None:
    if len(value) > limits.max_string_chars:
        return (path, "too_long", f"longer than {limits.max_string_chars} characters")
    if "\x00" in value:
        return (path, "nul", "contains a NUL byte")
    return None


class InputLimitsMiddleware:
    """See the module docstring. `body_limit(scope)` may lower the body limit per request."""

    def __init__(
        self,
        app: ASGIApp,
        limits: Limits,
        *,
        inspect_json: bool = True,
        body_limit: Callable[[Scope], int] | None = None,
    ) -> None:
        self.app, self.limits, self.inspect_json = app, limits, inspect_json
        self.body_limit = body_limit or (lambda scope: limits.max_body_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        problem = header_problem(scope, self.limits) or query_problem(scope, self.limits)
        if problem is not None:
            await _send_problem(scope, send, problem)
            return
        limit = self.body_limit(scope)
        length = _content_length(scope)
        if length is not None and length > limit:
            await _send_problem(scope, send, _too_large(limit))
            return
        if self.inspect_json and scope["method"] in ("POST", "PUT", "PATCH"):
            try:
                body = await _read_body(receive, limit)
            except PayloadTooLarge:
                await _send_problem(scope, send, _too_large(limit))
                return
            if body and _is_json(scope):
                problem = json_problem(body, self.limits)
                if problem is not None:
                    await _send_problem(scope, send, problem)
                    return
            await self.app(scope, _replay(body, receive), send)
            return
        await self.app(scope, _counting(receive, limit), send)


def _too_large(limit: int) -> dict[str, Any]:
    reason = f"at most {limit} bytes"
    return _problem(413, "Content too large", f"The request body is too large ({reason}).", _param("body", "body", "too_large", reason))


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _is_json(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or media.endswith(b"+json")
    return True  # FastAPI parses a body without a content type as JSON too


async def _read_body(receive: Receive, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()  # http.disconnect, when the client goes away

    return replay


def _counting(receive: Receive, limit: int) -> Receive:
    size = 0

    async def counted() -> Message:
        nonlocal size
        message = await receive()
        if message["type"] == "http.request":
            size += len(message.get("body", b""))
            if size > limit:
                raise PayloadTooLarge(limit)  # a ProblemError: the app answers 413
        return message

    return counted


async def _send_problem(scope: Scope, send: Send, problem: dict[str, Any]) -> None:
    problem["instance"] = scope["path"].replace("\x00", "")[:2000]
    content = orjson.dumps(problem)
    headers = [(b"content-type", PROBLEM_JSON.encode()), (b"content-length", str(len(content)).encode())]
    if problem["status"] in (413, 431):
        headers.append((b"connection", b"close"))  # the rest of an oversized request is not read
    await send({"type": "http.response.start", "status": problem["status"], "headers": headers})
    await send({"type": "http.response.body", "body": content})


# Dates the marketplace can reason about: permits, placements and plots lie in this range, and
# month arithmetic (expiry horizons, terms) on them stays far from date.max. pydantic alone
# accepts 0001..9999, and 9999-12-31 + 24 months overflowed in the expiry scan.
MIN_DATE = dt.date(1900, 1, 1)
MAX_DATE = dt.date(2200, 12, 31)


def _sane_date(value: dt.date) -> dt.date:
    if not MIN_DATE <= value <= MAX_DATE:
        raise ValueError(f"must lie between {MIN_DATE} and {MAX_DATE}")
    return value


# Every date a caller sends (bodies and query filters); the OpenAPI type stays `format: date`.
Day = Annotated[dt.date, AfterValidator(_sane_date)]
