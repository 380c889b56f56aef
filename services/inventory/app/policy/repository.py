"""Queries of the followed matching policy."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.policy.models import FollowedPolicy


async def current(session: AsyncSession) -> FollowedPolicy | None:
    return await session.scalar(sa.select(FollowedPolicy).where(FollowedPolicy.id == 1))


async def store_if_newer(session: AsyncSession, values: dict) -> bool:
    """Keep `values` only when their version is newer than the stored one (one statement: no race)."""
    applied = await session.execute(
        pg_insert(FollowedPolicy)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=[FollowedPolicy.id], set_=values, where=FollowedPolicy.version < values["version"])
        .returning(FollowedPolicy.version)
    )
    return applied.first() is not None
