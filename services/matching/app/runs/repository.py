"""Queries of matching runs."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.runs.models import MatchingRun
from shared.web.pagination import paginate_entities


async def page(session: AsyncSession, limit: int, cursor: str | None) -> tuple[list[MatchingRun], str | None]:
    return await paginate_entities(session, sa.select(MatchingRun), [MatchingRun.created_at, MatchingRun.id], limit, cursor)


async def get(session: AsyncSession, run_id: uuid.UUID) -> MatchingRun | None:
    return await session.get(MatchingRun, run_id)
