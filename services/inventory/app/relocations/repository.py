"""Queries of relocation plans."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Unit
from services.inventory.app.placements.models import Placement, PlacementUnit
from services.inventory.app.relocations.models import Relocation
from shared.db import where_given
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import paginate_entities


async def by_reservation(session: AsyncSession, reservation_id: uuid.UUID) -> Relocation | None:
    return (await session.execute(sa.select(Relocation).where(Relocation.reservation_id == reservation_id))).scalar_one_or_none()


async def lock_placement(session: AsyncSession, placement_id: uuid.UUID) -> Placement | None:
    return (
        await session.execute(sa.select(Placement).where(Placement.id == placement_id).with_for_update())
    ).scalar_one_or_none()


async def units_of_placement(session: AsyncSession, placement_id: uuid.UUID) -> list[Unit]:
    """The placement's units in serial order, locked (they are about to be placed again)."""
    return list(
        (
            await session.execute(
                sa.select(Unit)
                .join(PlacementUnit, PlacementUnit.unit_id == Unit.id)
                .where(PlacementUnit.placement_id == placement_id, Unit.status.not_in(["sold", "dismantled"]))
                .order_by(Unit.seq)
                .with_for_update(of=Unit)
            )
        ).scalars()
    )


async def later_placement_of_units(session: AsyncSession, placement: Placement, unit_ids: list[uuid.UUID]) -> dict[uuid.UUID, uuid.UUID | None]:
    """unit id -> the relocation that created the later placement it stands in (None: the investor recorded it)."""
    if not unit_ids:
        return {}
    rows = await session.execute(
        sa.select(PlacementUnit.unit_id, Placement.created_by_relocation_id)
        .join(Placement, Placement.id == PlacementUnit.placement_id)
        .where(PlacementUnit.unit_id.in_(unit_ids), PlacementUnit.placement_id != placement.id,
               PlacementUnit.start_date >= placement.end_date)
    )
    return {unit_id: relocation_id for unit_id, relocation_id in rows}


async def relocation_ids_of(session: AsyncSession, placement_id: uuid.UUID) -> set[uuid.UUID | None]:
    """The relocations (parts) recorded so far for the homes of this placement."""
    return set((await session.scalars(sa.select(Relocation.id).where(Relocation.placement_id == placement_id))).all())


def visible(principal: Principal) -> sa.Select:
    query = sa.select(Relocation)
    if principal.role is Role.investor:
        return query.where(Relocation.investor_org == principal.org)
    if principal.role is Role.municipality:
        return query.where(sa.literal(principal.org) == sa.any_(Relocation.gemeente_codes))
    if principal.role is Role.marktmeester:
        return query
    return query.where(sa.false())


async def page_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    complex_id: uuid.UUID | None,
    placement_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Relocation], str | None]:
    query = where_given(visible(principal), (Relocation.complex_id, complex_id), (Relocation.placement_id, placement_id))
    return await paginate_entities(session, query, [Relocation.created_at, Relocation.id], limit, cursor)


async def get_visible(session: AsyncSession, principal: Principal, relocation_id: uuid.UUID) -> Relocation | None:
    return (await session.execute(visible(principal).where(Relocation.id == relocation_id))).scalar_one_or_none()
