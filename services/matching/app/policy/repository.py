"""Queries of the policy versions."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.policy.models import PolicyVersion
from shared.web.pagination import paginate_entities


async def latest_version(session: AsyncSession) -> int | None:
    return await session.scalar(sa.select(sa.func.max(PolicyVersion.version)))


async def get(session: AsyncSession, version: int) -> PolicyVersion | None:
    return await session.get(PolicyVersion, version)


async def add_first(session: AsyncSession, values: dict) -> None:
    """Version 1, unless another replica stored it first."""
    await session.execute(pg_insert(PolicyVersion).values(version=1, **values).on_conflict_do_nothing(index_elements=[PolicyVersion.version]))


# One transaction at a time changes the policy (a row lock on the newest version would let the second
# writer, after waiting, still see that version and collide on n+1).
POLICY_LOCK = 0x706F6C6963790001


async def lock_latest(session: AsyncSession) -> PolicyVersion | None:
    """The current version, under the policy's lock: two concurrent changes queue here and the second sees the first."""
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(POLICY_LOCK)))
    return await session.scalar(sa.select(PolicyVersion).order_by(PolicyVersion.version.desc()).limit(1))


async def page(session: AsyncSession, limit: int, cursor: str | None) -> tuple[list[PolicyVersion], str | None]:
    return await paginate_entities(session, sa.select(PolicyVersion), [PolicyVersion.version], limit, cursor)
