""""Today" for the inventory: settings.today (or the real date) plus the persisted demo offset.

Every replica reads the offset from the database, so moving the demo clock on one
replica moves it for all of them (and for the expiry scan).
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock import repository
from shared.runtime import ServiceRuntime


async def today(session: AsyncSession, runtime: ServiceRuntime) -> dt.date:
    runtime.clock.offset_days = await repository.get_offset_days(session)
    return runtime.clock.today()


def base_date(runtime: ServiceRuntime) -> dt.date:
    """The date before any offset: settings.today, or the real date."""
    return runtime.clock.fixed_today or dt.datetime.now(dt.timezone.utc).date()


async def move(session: AsyncSession, runtime: ServiceRuntime, *, offset_days: int | None, to: dt.date | None) -> dt.date:
    """Set the offset directly, or so that today becomes `to`."""
    new_offset = offset_days if offset_days is not None else (to - base_date(runtime)).days  # type: ignore[operator]
    await repository.set_offset_days(session, new_offset)
    runtime.clock.offset_days = new_offset
    return runtime.clock.today()
