"""Asking the background matcher to match waiting demand again (herberekening aanvragen).

Event reactions and requests call `request(...)` in their own transaction: the fold and the request
commit together, so an event acknowledged is never a re-solve lost. The solve itself runs later,
coalesced with others, in `rematch.matcher` (outside any inbox transaction, off the event loop).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.rematch import repository as repo

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime


async def request(session: AsyncSession, runtime: "ServiceRuntime", placement_ids: list[uuid.UUID] | None = None,
                  *, reason: str) -> None:
    """Match this waiting demand again (None: all waiting demand, e.g. because supply changed).

    Takes effect when the caller's transaction commits (the matcher is woken by the commit).
    """
    await repo.add(session, None if placement_ids is None else list(placement_ids), reason)
