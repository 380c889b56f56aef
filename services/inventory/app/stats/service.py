"""Statistics for the marktmeester's dashboard (see briefs: stats contract)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.stats import repository
from services.inventory.app.stats.schemas import PlacementStats, QuarterProvinceHomes
from shared.clock import add_months

QUARTERS = 40


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


async def placement_stats(session: AsyncSession, today: dt.date) -> PlacementStats:
    until = add_months(quarter_start(today), 3 * QUARTERS)  # the current quarter and the next 39
    by_quarter = await repository.homes_ending_by_quarter(session, today, until)
    return PlacementStats(
        today=today,
        homes_placed=await repository.homes_placed(session, today),
        ending_within_12_months=await repository.homes_ending_by(session, today, add_months(today, 12)),
        ending_within_24_months=await repository.homes_ending_by(session, today, add_months(today, 24)),
        ending_by_quarter=[QuarterProvinceHomes(quarter=f"{y}-Q{q}", province_code=p, homes=h) for y, q, p, h in by_quarter],
    )
