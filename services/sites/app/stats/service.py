"""Capacity statistics: free plot capacity by the quarter a plot's window opens."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.stats import repository as repo
from services.sites.app.stats.schemas import CapacityStats, QuarterCapacity

QUARTERS_AHEAD = 40


def quarter_index(day: dt.date) -> int:
    return day.year * 4 + (day.month - 1) // 3


def quarter_label(index: int) -> str:
    return f"{index // 4}-Q{index % 4 + 1}"


async def capacity(session: AsyncSession, today: dt.date) -> CapacityStats:
    plots, capacity_units, reserved, promised = await repo.totals(session)
    first = quarter_index(today)
    homes: dict[tuple[int, str], int] = defaultdict(int)
    for opens, province, free in await repo.free_by_opening_and_province(session, today):
        q = quarter_index(opens)
        if q < first + QUARTERS_AHEAD:
            homes[(q, province)] += free
    return CapacityStats(
        plots_published=plots,
        capacity_units=capacity_units,
        reserved_units=reserved,
        promised_units=promised,
        free_units=capacity_units - reserved - promised,
        capacity_by_quarter=[
            QuarterCapacity(quarter=quarter_label(q), province_code=p, available_homes=n) for (q, p), n in sorted(homes.items())
        ],
    )
