"""Request dependencies every service uses: its runtime and a read-only session."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from shared.runtime import ServiceRuntime


def get_runtime(request: Request) -> ServiceRuntime:
    return request.app.state.runtime


async def get_session(request: Request) -> AsyncIterator[AsyncSession]:
    """A read-only unit of work for GET endpoints (writes open their own transaction)."""
    runtime: ServiceRuntime = request.app.state.runtime
    assert runtime.db is not None
    async with runtime.db.sessions() as session:
        yield session


Runtime = Annotated[ServiceRuntime, Depends(get_runtime)]
# scope="function": the connection goes back to the pool before the response is sent, not after.
Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
