"""Creating POSTs in one transaction with their Idempotency-Key record (shared.web.idempotency)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.db import bus_tables
from shared.runtime import ServiceRuntime
from shared.web import idempotency
from shared.web.identity import Principal


async def run_creation(
    runtime: ServiceRuntime,
    principal: Principal,
    operation: str,
    key: str | None,
    body: Any,
    create: Callable[[AsyncSession], Awaitable[tuple[int, Any, dict[str, str]]]],
) -> JSONResponse:
    """Run `create(session)` -> (status, response body, headers) once per Idempotency-Key.

    The stored response commits with the creation and its outbox rows, so a retry
    after a crash either finds both or neither.
    """
    assert runtime.db is not None
    scope = f"{principal.key}|{operation}"
    body_hash = idempotency.request_hash(jsonable_encoder(body))
    async with runtime.db.transaction() as session:
        if key is not None:
            stored = await idempotency.lookup(session, bus_tables, scope, key, body_hash)
            if stored is not None:
                status, response = stored
                return JSONResponse(response, status_code=status, headers={"Idempotent-Replayed": "true"})
        status, result, headers = await create(session)
        response = jsonable_encoder(result)
        if key is not None:
            await idempotency.remember(session, bus_tables, scope, key, body_hash, status, response)
    runtime.nudge()
    return JSONResponse(response, status_code=status, headers=headers)
