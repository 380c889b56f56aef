"""The one product clock: inventory owns it (persisted offset, shared by every replica) and tells
every other service through `inventory.clock.set`; "today" itself is computed by the runtime's
`shared.clock.Clock` only.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock import repository
from shared.events.models import ClockSet
from shared.product_clock import EARLIEST_TODAY, LATEST_TODAY, within_range
from shared.runtime import ServiceRuntime
from shared.web.problems import InvalidInput


async def today(session: AsyncSession, runtime: ServiceRuntime) -> dt.date:
    """The clock's today, after taking over the offset another replica may have set."""
    runtime.clock.offset_days = await repository.get_offset_days(session)
    return runtime.clock.today()


async def move(
    session: AsyncSession, runtime: ServiceRuntime, *, offset_days: int | None, to: dt.date | None, set_by: str | None = None
) -> dt.date:
    """Set the offset directly, or so that today becomes `to`; tell the other services in the same transaction."""
    base = runtime.clock.base_date()
    new_offset = offset_days if offset_days is not None else (to - base).days  # type: ignore[operator]
    if not within_range(base, new_offset):
        raise InvalidInput([("offset_days", f"today must stay between {EARLIEST_TODAY} and {LATEST_TODAY}")])
    new_today = base + dt.timedelta(days=new_offset)
    version = await repository.set_offset_days(session, new_offset)
    await runtime.emit(
        session, "inventory.clock.set", "clock", ClockSet(today=new_today, offset_days=new_offset, set_by=set_by, version=version)
    )
    runtime.clock.offset_days = new_offset
    return new_today
