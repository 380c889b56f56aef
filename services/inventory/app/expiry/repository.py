"""The expiry scan's atomic claims: UPDATE ... WHERE <flag> IS NULL ... RETURNING.

A claim and the outbox rows of its events commit in one transaction; a concurrent
scan (another task, another replica) either skips the locked rows or, after the
first commit, finds the flag set. Either way each signal is written once.
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Unit
from services.inventory.app.placements.models import Placement, PlacementUnit


async def claim_expiring(session: AsyncSession, horizon: dt.date, batch: int) -> list[Placement]:
    """Placements ending on or before `horizon` not yet signalled (and not already relocated)."""
    due = (
        sa.select(Placement.id)
        .where(Placement.expiring_emitted_at.is_(None), Placement.relocation_id.is_(None), Placement.end_date <= horizon)
        .order_by(Placement.end_date, Placement.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        sa.update(Placement)
        .where(Placement.id.in_(due.scalar_subquery()), Placement.expiring_emitted_at.is_(None))
        .values(expiring_emitted_at=sa.func.now())
        .returning(Placement),
        execution_options={"synchronize_session": False},
    )
    return list(result.scalars())


async def claim_ended(session: AsyncSession, today: dt.date, batch: int) -> list[Placement]:
    """Placements whose end date has passed and whose end was not yet signalled."""
    due = (
        sa.select(Placement.id)
        .where(Placement.ended_emitted_at.is_(None), Placement.end_date < today)
        .order_by(Placement.end_date, Placement.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
    )
    result = await session.execute(
        sa.update(Placement)
        .where(Placement.id.in_(due.scalar_subquery()), Placement.ended_emitted_at.is_(None))
        .values(ended_emitted_at=sa.func.now())
        .returning(Placement),
        execution_options={"synchronize_session": False},
    )
    return list(result.scalars())


def _placed_on(today: dt.date) -> sa.Select:
    return sa.select(PlacementUnit.unit_id).where(PlacementUnit.start_date <= today, PlacementUnit.end_date >= today)


async def release_units(session: AsyncSession, placement_ids: list, status: str, today: dt.date) -> None:
    """Units of ended placements leave the plot (in transit or into storage) unless placed elsewhere today."""
    if not placement_ids:
        return
    await session.execute(
        sa.update(Unit)
        .where(
            Unit.id.in_(sa.select(PlacementUnit.unit_id).where(PlacementUnit.placement_id.in_(placement_ids))),
            Unit.id.not_in(_placed_on(today)),
            Unit.status.not_in(["sold", "dismantled"]),
        )
        .values(status=status, updated_at=sa.func.now())
    )


async def settle_started(session: AsyncSession, today: dt.date) -> int:
    """Units standing in a placement that covers today are in use (e.g. after a move)."""
    result = await session.execute(
        sa.update(Unit)
        .where(Unit.status.in_(["in_transit", "stored", "vacant"]), Unit.id.in_(_placed_on(today)))
        .values(status="in_use", updated_at=sa.func.now())
    )
    return result.rowcount or 0
