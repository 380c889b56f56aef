"""Idempotency-Key on creating POSTs, stored in the service's own database.

The first response is stored in the same transaction as the creation, so a retry
returns it and nothing is created twice; the same key with another body is refused
(422, IETF httpapi Idempotency-Key draft).
"""

from __future__ import annotations

import hashlib
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Annotated, Any

import orjson
from fastapi import Header
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.tables import BusTables
from shared.web.problems import ProblemError

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime
    from shared.web.identity import Principal

HEADER = "Idempotency-Key"

IdempotencyKey = Annotated[
    str | None,
    Header(
        alias=HEADER,
        max_length=200,
        description="A retried request with the same key returns the first result and creates nothing twice.",
        examples=["5f0c1e0e-3c1f-4d7a-9a53-7c2f1b9e8a10"],
    ),
]


def request_hash(body: Any) -> str:
    return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS, default=str)).hexdigest()


def _lock_id(scope: str, key: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{scope}\x00{key}".encode()).digest()[:8], "big", signed=True)


async def lookup(
    session: AsyncSession, tables: BusTables, scope: str, key: str, body_hash: str
) -> tuple[int, Any] | None:
    """Serialise requests with this key, then return the stored (status, body) if any."""
    if len(key) > 200:
        raise ProblemError(400, "Invalid input", "The Idempotency-Key header is longer than 200 characters.")
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(_lock_id(scope, key))))
    t = tables.idempotency_keys
    row = (
        await session.execute(
            sa.select(t.c.request_hash, t.c.status_code, t.c.response).where(t.c.principal == scope, t.c.key == key)
        )
    ).first()
    if row is None:
        return None
    if row.request_hash != body_hash:
        raise ProblemError(
            422,
            "Idempotency-Key reused",
            "This Idempotency-Key was used before with a different request body.",
        )
    return row.status_code, row.response


async def remember(
    session: AsyncSession, tables: BusTables, scope: str, key: str, body_hash: str, status: int, response: Any
) -> None:
    await session.execute(
        pg_insert(tables.idempotency_keys)
        .values(principal=scope, key=key, request_hash=body_hash, status_code=status, response=response)
        .on_conflict_do_nothing()
    )


async def create_once(
    runtime: "ServiceRuntime",
    principal: "Principal",
    operation: str,
    key: str | None,
    body: Any,
    create: Callable[[AsyncSession], Awaitable[tuple[int, Any, dict[str, str]]]],
    replay_headers: Callable[[Any], dict[str, str]] | None = None,
) -> JSONResponse:
    """Run `create(session)` -> (status, response body, headers) once per Idempotency-Key.

    The stored response commits with the creation and its outbox rows, so a retry
    after a crash finds both or neither. `replay_headers` rebuilds headers (Location)
    for a replayed response.
    """
    assert runtime.db is not None and runtime.tables is not None
    scope = f"{principal.key}|{operation}"
    body_hash = request_hash(jsonable_encoder(body))
    async with runtime.transaction() as session:
        if key is not None:
            stored = await lookup(session, runtime.tables, scope, key, body_hash)
            if stored is not None:
                status, response = stored
                headers = {"Idempotent-Replayed": "true", **(replay_headers(response) if replay_headers else {})}
                return JSONResponse(response, status_code=status, headers=headers)
        status, result, headers = await create(session)
        response = jsonable_encoder(result)
        if key is not None:
            await remember(session, runtime.tables, scope, key, body_hash, status, response)
    return JSONResponse(response, status_code=status, headers=headers)
