"""Queries of complexes and units."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Complex, Unit
from services.inventory.app.placements.models import Placement
from shared.domain import Role
from shared.web.identity import Principal


def visible_complexes(principal: Principal) -> sa.Select:
    """Complexes the caller may see: investors their own, municipalities those placed with them."""
    query = sa.select(Complex)
    if principal.role is Role.investor:
        query = query.where(Complex.investor_org == principal.org)
    elif principal.role is Role.municipality:
        placed_here = sa.select(Placement.id).where(Placement.complex_id == Complex.id, Placement.gemeente_code == principal.org)
        query = query.where(placed_here.exists())
    elif principal.role is not Role.marktmeester:
        query = query.where(sa.false())
    return query


async def get_visible(session: AsyncSession, principal: Principal, complex_id: uuid.UUID) -> Complex | None:
    return (await session.execute(visible_complexes(principal).where(Complex.id == complex_id))).scalar_one_or_none()


async def short_code_taken(session: AsyncSession, short_code: str) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(Complex.short_code == short_code))))


async def insert_units(session: AsyncSession, rows: list[dict]) -> None:
    """All units of a complex in one round trip (executemany: SQLAlchemy batches it as insertmanyvalues)."""
    await session.execute(sa.insert(Unit.__table__), rows)


def units_of(complex_id: uuid.UUID) -> sa.Select:
    return sa.select(Unit).where(Unit.complex_id == complex_id)


async def owned_unit_count(session: AsyncSession, complex_id: uuid.UUID) -> int:
    return int(
        await session.scalar(
            sa.select(sa.func.count()).where(Unit.complex_id == complex_id, Unit.status.not_in(["sold", "dismantled"]))
        )
        or 0
    )


async def first_placement_start(session: AsyncSession, complex_id: uuid.UUID):  # noqa: ANN201
    return await session.scalar(sa.select(sa.func.min(Placement.start_date)).where(Placement.complex_id == complex_id))


async def current_placement(session: AsyncSession, complex_id: uuid.UUID, today) -> Placement | None:  # noqa: ANN001
    """The complex's present location: the latest started placement, else the first planned one."""
    started = (
        await session.execute(
            sa.select(Placement)
            .where(Placement.complex_id == complex_id, Placement.start_date <= today)
            .order_by(Placement.sequence_no.desc(), Placement.end_date.desc())
            .limit(1)
        )
    ).scalar_one_or_none()
    if started is not None:
        return started
    return (
        await session.execute(
            sa.select(Placement).where(Placement.complex_id == complex_id).order_by(Placement.start_date).limit(1)
        )
    ).scalar_one_or_none()
