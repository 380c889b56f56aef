"""Queries of the persisted clock offset."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock.models import ClockOffset


async def get_offset_days(session: AsyncSession) -> int:
    return int(await session.scalar(sa.select(ClockOffset.offset_days).where(ClockOffset.id == 1)) or 0)


async def set_offset_days(session: AsyncSession, offset_days: int) -> int:
    """Store the offset and return the clock's new version (one more than before, under the row lock)."""
    version = await session.scalar(
        pg_insert(ClockOffset)
        .values(id=1, offset_days=offset_days, version=1)
        .on_conflict_do_update(
            index_elements=[ClockOffset.id],
            set_={"offset_days": offset_days, "version": ClockOffset.version + 1, "updated_at": sa.func.now()},
        )
        .returning(ClockOffset.version)
    )
    return int(version)
