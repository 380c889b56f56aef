"""The inventory's demo offset of the clock, persisted so every replica (and the expiry scan)
moves together; "today" itself is computed by the runtime's `shared.clock.Clock` only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock import repository
from shared.runtime import ServiceRuntime


async def today(session: AsyncSession, runtime: ServiceRuntime) -> dt.date:
    """The clock's today, after taking over the offset another replica may have set."""
    runtime.clock.offset_days = await repository.get_offset_days(session)
    return runtime.clock.today()


async def move(session: AsyncSession, runtime: ServiceRuntime, *, offset_days: int | None, to: dt.date | None) -> dt.date:
    """Set the offset directly, or so that today becomes `to`."""
    new_offset = offset_days if offset_days is not None else (to - runtime.clock.base_date()).days  # type: ignore[operator]
    await repository.set_offset_days(session, new_offset)
    runtime.clock.offset_days = new_offset
    return runtime.clock.today()
