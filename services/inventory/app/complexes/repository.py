"""Queries of complexes and units."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes.models import Complex, Unit
from services.inventory.app.placements.models import Placement
from shared.db import where_given
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import paginate_entities


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


async def page_visible(
    session: AsyncSession,
    principal: Principal,
    *,
    investor_org: str | None,
    typology: str | None,
    bbl_level: str | None,
    rthf: bool | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Complex], str | None]:
    query = where_given(
        visible_complexes(principal),
        (Complex.investor_org, investor_org), (Complex.typology, typology), (Complex.bbl_level, bbl_level),
    )
    if rthf is not None:
        query = query.where(Complex.rthf.is_not(None) if rthf else Complex.rthf.is_(None))
    return await paginate_entities(session, query, [Complex.created_at, Complex.id], limit, cursor)


async def get(session: AsyncSession, complex_id: uuid.UUID) -> Complex | None:
    return await session.get(Complex, complex_id)


async def by_ids(session: AsyncSession, ids: set[uuid.UUID]) -> dict[uuid.UUID, Complex]:
    return {c.id: c for c in await session.scalars(sa.select(Complex).where(Complex.id.in_(ids)))}


async def get_visible(session: AsyncSession, principal: Principal, complex_id: uuid.UUID) -> Complex | None:
    return (await session.execute(visible_complexes(principal).where(Complex.id == complex_id))).scalar_one_or_none()


async def short_code_taken(session: AsyncSession, short_code: str) -> bool:
    return bool(await session.scalar(sa.select(sa.exists().where(Complex.short_code == short_code))))


async def insert_units(session: AsyncSession, rows: list[dict]) -> None:
    """All units of a complex in one round trip (executemany: SQLAlchemy batches it as insertmanyvalues)."""
    await session.execute(sa.insert(Unit.__table__), rows)


async def page_units(
    session: AsyncSession, complex_id: uuid.UUID, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Unit], str | None]:
    query = where_given(sa.select(Unit).where(Unit.complex_id == complex_id), (Unit.status, status))
    return await paginate_entities(session, query, [Unit.seq], limit, cursor)


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
