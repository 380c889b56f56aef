"""The expiry scan's claims: SELECT ... FOR UPDATE SKIP LOCKED of the placements whose next step is due.

A claim, the lifecycle change and the outbox rows of its events commit in one transaction;
a concurrent scan (another task, another replica) either skips the locked rows or, after
the first commit, re-checks them and finds the step done. Either way each signal is written
once. Which states a step starts from comes from the lifecycle table (`lifecycle.sources`).
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Unit
from services.inventory.app.placements.lifecycle import Lifecycle, sources
from services.inventory.app.placements.models import Placement, PlacementUnit


async def _claim(session: AsyncSession, batch: int, *where: sa.ColumnElement[bool], order: tuple = ()) -> list[Placement]:
    query = (
        sa.select(Placement)
        .where(*where)
        .order_by(*(order or (Placement.end_date,)), Placement.id)
        .limit(batch)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )
    return list((await session.execute(query)).scalars())


async def claim_started(session: AsyncSession, today: dt.date, batch: int) -> list[Placement]:
    """Follow-up placements whose start date has come (their homes have moved)."""
    return await _claim(
        session, batch,
        Placement.lifecycle == Lifecycle.scheduled.value, Placement.start_date <= today,
        order=(Placement.start_date,),
    )


async def claim_expiring(session: AsyncSession, horizon: dt.date, batch: int) -> list[Placement]:
    """Placements ending on or before `horizon` not yet signalled (and not already relocated)."""
    return await _claim(
        session, batch,
        Placement.expiring_emitted_at.is_(None), Placement.relocation_id.is_(None), Placement.end_date <= horizon,
        Placement.lifecycle.in_(sources(Lifecycle.expiring)),
    )


async def claim_ended(session: AsyncSession, today: dt.date, batch: int) -> list[Placement]:
    """Placements whose end date has passed and whose end was not yet signalled."""
    return await _claim(
        session, batch,
        Placement.ended_emitted_at.is_(None), Placement.end_date < today,
        Placement.lifecycle.in_(sorted({*sources(Lifecycle.in_storage), *sources(Lifecycle.relocated)})),
    )


async def claim_fallback(session: AsyncSession, today: dt.date, batch: int) -> list[Placement]:
    """Stored placements whose longest storage period has passed without a relocation."""
    return await _claim(
        session, batch,
        # a placement relocated in part is stored too (relocation_id set): its homes no plan took fall back
        Placement.lifecycle.in_(sources(Lifecycle.fallback)), Placement.storage_until < today,
        order=(Placement.storage_until,),
    )


async def left_behind(session: AsyncSession, placement: Placement) -> list:
    """The homes of a placement that no later placement takes (a plan that housed only part of them), by serial."""
    later = sa.select(PlacementUnit.unit_id).where(PlacementUnit.placement_id != placement.id,
                                                   PlacementUnit.start_date >= placement.end_date)
    query = (sa.select(PlacementUnit.unit_id).join(Unit, Unit.id == PlacementUnit.unit_id)
             .where(PlacementUnit.placement_id == placement.id, PlacementUnit.unit_id.not_in(later), Unit.status.not_in(["sold", "dismantled"]))
             .order_by(Unit.seq))
    return list((await session.scalars(query)).all())


async def lock_relocated_from(session: AsyncSession, relocation_ids: list) -> list[Placement]:
    """The placements these relocations move homes away from (to settle an already ended one as relocated)."""
    if not relocation_ids:
        return []
    query = sa.select(Placement).where(Placement.relocation_id.in_(relocation_ids)).order_by(Placement.id).with_for_update()
    return list((await session.execute(query.execution_options(populate_existing=True))).scalars())


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


async def store_unrelocated(session: AsyncSession, placement_ids: list, today: dt.date) -> None:
    """Homes of ended, relocated placements that no follow-up placement takes (a partly housed plan) are stored."""
    if not placement_ids:
        return
    follow_up = sa.select(PlacementUnit.unit_id).where(PlacementUnit.start_date >= today)
    await session.execute(
        sa.update(Unit)
        .where(
            Unit.id.in_(sa.select(PlacementUnit.unit_id).where(PlacementUnit.placement_id.in_(placement_ids))),
            Unit.id.not_in(_placed_on(today)),
            Unit.id.not_in(follow_up),
            Unit.status == "in_transit",
        )
        .values(status="stored", updated_at=sa.func.now())
    )


async def settle_started(session: AsyncSession, today: dt.date) -> int:
    """Units standing in a placement that covers today are in use (e.g. after a move)."""
    result = await session.execute(
        sa.update(Unit)
        .where(Unit.status.in_(["in_transit", "stored", "vacant"]), Unit.id.in_(_placed_on(today)))
        .values(status="in_use", updated_at=sa.func.now())
    )
    return result.rowcount or 0
