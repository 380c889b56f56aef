"""Queries of the organisations registry."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.organisations.models import Organisation


async def get(session: AsyncSession, org_id: str, *, for_update: bool = False) -> Organisation | None:
    query = sa.select(Organisation).where(Organisation.id == org_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def kvk_holder(session: AsyncSession, kvk_number: str) -> str | None:
    """The organisation registered with this KvK number, if any."""
    return await session.scalar(sa.select(Organisation.id).where(Organisation.kvk_number == kvk_number))


async def after(session: AsyncSession, after_id: str | None, *, active: bool | None, limit: int) -> list[Organisation]:
    """Up to `limit` organisations with an id after `after_id`, by id (the merged listing's order)."""
    by_id = Organisation.id.collate("C")  # bytewise, like the merge with the municipalities in Python
    query = sa.select(Organisation).order_by(by_id).limit(limit)
    if after_id is not None:
        query = query.where(by_id > after_id)
    if active is not None:
        query = query.where(Organisation.active.is_(active))
    return list(await session.scalars(query))


def add(session: AsyncSession, organisation: Organisation) -> None:
    session.add(organisation)
