"""Aggregates over published plots."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.sites.models import Site
from services.sites.app.sites.repository import status_is

PUBLISHED = status_is("published")


async def totals(session: AsyncSession) -> tuple[int, int, int, int]:
    """Published plots: count, capacity, reserved and promised homes."""
    row = (
        await session.execute(
            sa.select(
                sa.func.count(),
                sa.func.coalesce(sa.func.sum(Site.capacity_units), 0),
                sa.func.coalesce(sa.func.sum(Site.reserved_units), 0),
                sa.func.coalesce(sa.func.sum(Site.promised_units), 0),
            ).where(PUBLISHED)
        )
    ).one()
    return int(row[0]), int(row[1]), int(row[2]), int(row[3])


async def free_by_opening_and_province(session: AsyncSession, today: dt.date) -> list[tuple[dt.date, str, int]]:
    """(opening date, province, free homes) of published plots still open at or after today."""
    opens = sa.func.greatest(Site.available_from, sa.cast(sa.literal(today), sa.Date))
    rows = await session.execute(
        sa.select(opens, Site.province_code, sa.func.sum(Site.free_units))
        .where(PUBLISHED, sa.or_(Site.available_until.is_(None), Site.available_until >= today), Site.free_units > 0)
        .group_by(opens, Site.province_code)
    )
    return [(r[0], r[1], int(r[2])) for r in rows]
