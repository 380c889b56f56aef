"""Idempotency-Key on creating POSTs, stored in the service's own database.

The write session (`shared.web.deps.WriteSession`) acts on the header: it replays a
stored answer, or refuses the same key with another body (422, IETF httpapi
Idempotency-Key draft); the answer an endpoint gives with `answer()` is stored in the
same transaction as the creation, so a retry after a crash finds both or neither.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated, Any

import orjson
import sqlalchemy as sa
from fastapi import Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.tables import BusTables
from shared.web.problems import InvalidInput, ProblemError

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime
    from shared.web.identity import Principal

HEADER = "Idempotency-Key"
_ANSWER = "idempotency.answer"  # session.info slot for the answer the endpoint gives

# Declared by the endpoints that honour the key, so it is documented and validated there.
IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=200,
        description="A retried request with the same key returns the first result and creates nothing twice.",
        examples=["5f0c1e0e-3c1f-4d7a-9a53-7c2f1b9e8a10"],
    ),
]


@dataclass(frozen=True)
class Claim:
    scope: str
    key: str
    body_hash: str


class Replayed(Exception):
    """The stored answer of an earlier request with this key; the app returns it as is."""

    def __init__(self, response: JSONResponse) -> None:
        self.response = response


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _scope(request: Request, principal: "Principal") -> str:
    """Caller, operation and the resource it acts on: one key on two placements' end states is two requests.

    The route template keeps the scope short; its path parameters (if any) go in as a digest.
    """
    from shared.web.app import API_PREFIX  # here: the app module installs this one

    route = request.scope.get("route")
    path = getattr(route, "path", request.url.path).removeprefix(API_PREFIX)
    params = request.scope.get("path_params") or {}
    resource = f" {hashlib.sha256(orjson.dumps(params, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()[:32]}" if params else ""
    return f"{principal.key}|{request.method} {path}{resource}"[:200]


def _lock_id(scope: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{scope}\x00{key}".encode()).digest()[:8], "big", signed=True)


def answer(session: AsyncSession, result: Any, *, status: int = 201, location: str | None = None) -> JSONResponse:
    """The response of a creating endpoint; the write session stores it under the request's key."""
    body = jsonable_encoder(result)
    session.info[_ANSWER] = (status, body)
    return JSONResponse(body, status_code=status, headers={"Location": location} if location else None)


async def claim(session: AsyncSession, runtime: "ServiceRuntime", request: Request, principal: "Principal") -> Claim | None:
    """Serialise requests with this key; raise `Replayed` when an answer is stored already."""
    key = request.headers.get(HEADER)
    if key is None:
        return None
    if len(key) > 200:
        raise InvalidInput([(HEADER, "at most 200 characters")], where="header")
    found = Claim(_scope(request, principal), key, request_hash(orjson.loads(raw) if (raw := await request.body()) else {}))
    stored = await _lookup(session, _tables(runtime), found)
    if stored is not None:
        status, response = stored
        headers = {"Idempotent-Replayed": "true"}
        if status == 201 and isinstance(response, dict) and "id" in response:
            headers["Location"] = f"{request.url.path}/{response['id']}"
        raise Replayed(JSONResponse(response, status_code=status, headers=headers))
    return found


async def remember(session: AsyncSession, runtime: "ServiceRuntime", found: Claim) -> None:
    given = session.info.pop(_ANSWER, None)
    if given is None:
        return  # an endpoint that gives no answer to keep (it is not idempotent by key)
    status, response = given
    await session.execute(
        pg_insert(_tables(runtime).idempotency_keys)
        .values(principal=found.scope, key=found.key, request_hash=found.body_hash, status_code=status, response=response)
        .on_conflict_do_nothing()
    )


def _tables(runtime: "ServiceRuntime") -> BusTables:
    assert runtime.tables is not None
    return runtime.tables


async def _lookup(session: AsyncSession, tables: BusTables, found: Claim) -> tuple[int, Any] | None:
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_id(found.scope, found.key))))
    t = tables.idempotency_keys
    row = (
        await session.execute(
            sa.select(t.c.request_hash, t.c.status_code, t.c.response).where(t.c.principal == found.scope, t.c.key == found.key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != found.body_hash:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was used before with a different request body.",
        )
    return row.status_code, row.response
