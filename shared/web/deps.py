"""Request dependencies every service uses: its runtime, a read session and the write session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.runtime import ServiceRuntime
from shared.web import idempotency
from shared.web.identity import CurrentPrincipal


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only unit of work for GET endpoints."""
    runtime: ServiceRuntime = request.app.state.runtime
    assert runtime.db is not None
    async with runtime.db.sessions() as session:
        yield session


async def get_write_session(request: Request, principal: CurrentPrincipal) -> AsyncIterator[AsyncSession]:
    """The one unit of work of a writing request.

    Commits when the endpoint returns, rolls back when it raises, then wakes the outbox
    relay. With an Idempotency-Key it first replays a stored answer (or refuses another
    body), and stores the answer the endpoint gives with `idempotency.answer` in the same
    transaction. Services only flush.
    """
    runtime: ServiceRuntime = request.app.state.runtime
    async with runtime.transaction() as session:
        claim = await idempotency.claim(session, runtime, request, principal)
        yield session
        if claim is not None:
            await idempotency.remember(session, runtime, claim)


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
# scope="function": the connection goes back to the pool (and a write commits) before the response is sent.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
WriteSession = Annotated[AsyncSession, Depends(get_write_session, scope="function")]
