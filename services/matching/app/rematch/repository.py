"""Queries over rematch requests."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from services.matching.app.rematch.models import RematchRequest

MATCHER_LOCK = 7_300_451_004  # one background matcher across replicas (session-level advisory lock)


async def add(session: AsyncSession, placement_ids: list[uuid.UUID] | None, reason: str) -> None:
    values = [{"placement_id": None, "reason": reason[:60]}] if placement_ids is None else [
        {"placement_id": p, "reason": reason[:60]} for p in dict.fromkeys(placement_ids)
    ]
    if values:
        await session.execute(sa.insert(RematchRequest), values)


async def outstanding(session: AsyncSession) -> list[tuple[int, uuid.UUID | None]]:
    """Every request not served yet: (id, placement or None for all waiting demand)."""
    rows = await session.execute(sa.select(RematchRequest.id, RematchRequest.placement_id).order_by(RematchRequest.id))
    return [(r[0], r[1]) for r in rows.all()]


async def any_outstanding(session: AsyncSession) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(RematchRequest.id.is_not(None)))))


async def delete(session: AsyncSession, ids: list[int]) -> None:
    if ids:
        await session.execute(sa.delete(RematchRequest).where(RematchRequest.id.in_(ids)))


async def oldest_age_s(session: AsyncSession) -> float:
    """Seconds since the oldest outstanding request was made (0 when none)."""
    age = await session.scalar(sa.select(sa.func.extract("epoch", sa.func.now() - sa.func.min(RematchRequest.requested_at))))
    return float(age or 0)


async def try_lead(conn: AsyncConnection) -> bool:
    """Take the matcher's leadership on this (autocommit) connection; False when another replica holds it."""
    return bool(await conn.scalar(sa.select(sa.func.pg_try_advisory_lock(MATCHER_LOCK))))


async def stop_leading(conn: AsyncConnection) -> None:
    await conn.scalar(sa.select(sa.func.pg_advisory_unlock(MATCHER_LOCK)))


async def keep_alive(conn: AsyncConnection) -> None:
    await conn.scalar(sa.select(1))
