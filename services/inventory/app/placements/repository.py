"""Queries of placements and their units."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Unit
from services.inventory.app.placements.lifecycle import CLOSED
from services.inventory.app.placements.models import Placement, PlacementUnit
from shared.db import where_given
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import paginate


CLOSED_STATES = sorted(s.value for s in CLOSED.values())


def status_expr(today: dt.date) -> sa.ColumnElement[str]:
    """The placement status as of `today` (the movable clock), computed in SQL."""
    return sa.case(
        (Placement.end_date < today, "ended"),
        (Placement.lifecycle.in_(CLOSED_STATES), "ended"),
        (Placement.start_date > today, "scheduled"),
        (Placement.expiring_emitted_at.is_not(None), "expiring"),
        else_="active",
    )


def scope(query: sa.Select, principal: Principal) -> sa.Select:
    """Investors see their own placements, municipalities those in their gemeente."""
    if principal.role is Role.investor:
        return query.where(Placement.investor_org == principal.org)
    if principal.role is Role.municipality:
        return query.where(Placement.gemeente_code == principal.org)
    if principal.role is Role.marktmeester:
        return query
    return query.where(sa.false())


def visible(principal: Principal, today: dt.date) -> sa.Select:
    return scope(sa.select(Placement, status_expr(today).label("status")), principal)


async def page_visible(
    session: AsyncSession,
    principal: Principal,
    today: dt.date,
    *,
    expiring_before: dt.date | None,
    complex_id: uuid.UUID | None,
    gemeente: str | None,
    site_id: uuid.UUID | None,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[tuple[Placement, str]], str | None]:
    """Visible placements with their status as of `today`, soonest end date first."""
    query = where_given(
        visible(principal, today),
        (Placement.complex_id, complex_id), (Placement.gemeente_code, gemeente), (Placement.site_id, site_id),
        (status_expr(today), status),
    )
    if expiring_before:
        query = query.where(Placement.end_date < expiring_before)
    rows, next_cursor = await paginate(session, query, [Placement.end_date, Placement.id], limit, cursor)
    return [(r[0], r[1]) for r in rows], next_cursor


async def map_rows(
    session: AsyncSession,
    principal: Principal,
    today: dt.date,
    *,
    status: str | None,
    expiring_before: dt.date | None,
    complex_id: uuid.UUID | None,
    bbox: tuple[float, float, float, float] | None = None,
) -> Sequence[sa.Row]:
    """The columns a map point needs, scoped like the placement list, soonest end date first.

    `bbox`: (min lon, min lat, max lon, max lat) in WGS84."""
    query = scope(
        sa.select(
            Placement.id, Placement.complex_id, Placement.investor_org, Placement.gemeente_code,
            Placement.unit_count, Placement.end_date, Placement.lat, Placement.lon, status_expr(today).label("status"),
        ),
        principal,
    )
    query = where_given(query, (status_expr(today), status), (Placement.complex_id, complex_id))
    if expiring_before:
        query = query.where(Placement.end_date < expiring_before)
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        query = query.where(Placement.lon.between(min_lon, max_lon), Placement.lat.between(min_lat, max_lat))
    return (await session.execute(query.order_by(Placement.end_date, Placement.id))).all()


async def get_visible(
    session: AsyncSession, principal: Principal, today: dt.date, placement_id: uuid.UUID
) -> tuple[Placement, str] | None:
    row = (await session.execute(visible(principal, today).where(Placement.id == placement_id))).first()
    return None if row is None else (row[0], row[1])


async def lock_units(session: AsyncSession, complex_id: uuid.UUID, unit_ids: list[uuid.UUID] | None) -> list[Unit]:
    """The units to place, locked so concurrent placements of the same homes serialise."""
    query = sa.select(Unit).where(Unit.complex_id == complex_id)
    if unit_ids is not None:
        query = query.where(Unit.id.in_(unit_ids))
    # Lock in id order (no deadlocks between overlapping requests), answer in serial order.
    units = list((await session.execute(query.order_by(Unit.id).with_for_update())).scalars())
    return sorted(units, key=lambda u: u.seq)


async def overlapping(session: AsyncSession, unit_ids: list[uuid.UUID], start: dt.date, end: dt.date) -> list[tuple[uuid.UUID, int]]:
    """Placements (id, units involved) of these units whose term overlaps [start, end)."""
    rows = await session.execute(
        sa.select(PlacementUnit.placement_id, sa.func.count())
        .where(PlacementUnit.unit_id.in_(unit_ids), PlacementUnit.start_date < end, PlacementUnit.end_date > start)
        .group_by(PlacementUnit.placement_id)
    )
    return [(r[0], r[1]) for r in rows]


async def previous_sequence(session: AsyncSession, unit_ids: list[uuid.UUID], before: dt.date) -> int:
    """Highest location number these units had before `before` (0 if never placed)."""
    value = await session.scalar(
        sa.select(sa.func.max(Placement.sequence_no))
        .join(PlacementUnit, PlacementUnit.placement_id == Placement.id)
        .where(PlacementUnit.unit_id.in_(unit_ids), Placement.start_date < before)
    )
    return int(value or 0)


async def insert_placement_units(session: AsyncSession, placement: Placement, unit_ids: list[uuid.UUID]) -> None:
    await session.execute(
        sa.insert(PlacementUnit.__table__).values(
            [
                {"placement_id": placement.id, "unit_id": u, "start_date": placement.start_date, "end_date": placement.end_date}
                for u in unit_ids
            ]
        )
    )


async def set_unit_status(session: AsyncSession, unit_ids: list[uuid.UUID], status: str) -> None:
    if unit_ids:
        await session.execute(
            sa.update(Unit).where(Unit.id.in_(unit_ids)).values(status=status, updated_at=sa.func.now())
        )


async def unit_ids_of(session: AsyncSession, placement_id: uuid.UUID) -> list[uuid.UUID]:
    rows = await session.execute(
        sa.select(PlacementUnit.unit_id)
        .join(Unit, Unit.id == PlacementUnit.unit_id)
        .where(PlacementUnit.placement_id == placement_id)
        .order_by(Unit.seq)
    )
    return [r[0] for r in rows]


async def unit_ids_by_placement(session: AsyncSession, placement_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[uuid.UUID]]:
    result: dict[uuid.UUID, list[uuid.UUID]] = {p: [] for p in placement_ids}
    if not placement_ids:
        return result
    rows = await session.execute(
        sa.select(PlacementUnit.placement_id, PlacementUnit.unit_id)
        .join(Unit, Unit.id == PlacementUnit.unit_id)
        .where(PlacementUnit.placement_id.in_(placement_ids))
        .order_by(PlacementUnit.placement_id, Unit.seq)
    )
    for placement_id, unit_id in rows:
        result[placement_id].append(unit_id)
    return result


async def lock(session: AsyncSession, placement_id: uuid.UUID) -> Placement | None:
    """The placement row, locked for a change (and fresh: another request may have changed it)."""
    query = sa.select(Placement).where(Placement.id == placement_id).with_for_update()
    return (await session.execute(query.execution_options(populate_existing=True))).scalar_one_or_none()


async def later_placements(session: AsyncSession, placement: Placement, unit_ids: list[uuid.UUID]) -> list[uuid.UUID]:
    """Other placements of these units that start after this one and are not closed (the homes moved on there)."""
    if not unit_ids:
        return []
    rows = await session.execute(
        sa.select(Placement.id)
        .join(PlacementUnit, PlacementUnit.placement_id == Placement.id)
        .where(
            PlacementUnit.unit_id.in_(unit_ids),
            Placement.id != placement.id,
            Placement.start_date >= placement.start_date,
            Placement.lifecycle.not_in(CLOSED_STATES),
        )
        .distinct()
    )
    return sorted(r[0] for r in rows)


async def set_term_of_units(session: AsyncSession, placement: Placement) -> None:
    """Copy a changed term onto the placement's units (the no-overlap constraint checks it)."""
    await session.execute(
        sa.update(PlacementUnit)
        .where(PlacementUnit.placement_id == placement.id)
        .values(start_date=placement.start_date, end_date=placement.end_date)
    )
