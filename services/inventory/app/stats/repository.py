"""Aggregate queries over placements."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.placements.models import Placement


def _active(today: dt.date) -> list[sa.ColumnElement[bool]]:
    return [Placement.start_date <= today, Placement.end_date >= today]


async def homes_placed(session: AsyncSession, today: dt.date) -> int:
    return int(await session.scalar(sa.select(sa.func.coalesce(sa.func.sum(Placement.unit_count), 0)).where(*_active(today))) or 0)


async def homes_ending_by(session: AsyncSession, today: dt.date, until: dt.date) -> int:
    return int(
        await session.scalar(
            sa.select(sa.func.coalesce(sa.func.sum(Placement.unit_count), 0)).where(*_active(today), Placement.end_date <= until)
        )
        or 0
    )


async def homes_ending_by_quarter(session: AsyncSession, today: dt.date, until: dt.date) -> list[tuple[int, int, str, int]]:
    """(year, quarter, province_code, homes) of active placements ending before `until`."""
    year = sa.cast(sa.extract("year", Placement.end_date), sa.Integer)
    quarter = sa.cast(sa.extract("quarter", Placement.end_date), sa.Integer)
    rows = await session.execute(
        sa.select(year, quarter, Placement.province_code, sa.func.sum(Placement.unit_count))
        .where(*_active(today), Placement.end_date < until)
        .group_by(year, quarter, Placement.province_code)
        .order_by(year, quarter, Placement.province_code)
    )
    return [(int(y), int(q), p, int(h)) for y, q, p, h in rows]
