"""Queries on reservations."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.reservations.models import Reservation, ReservationLine
from shared.web.pagination import paginate


async def by_proposal(session: AsyncSession, proposal_id: uuid.UUID, *, for_update: bool = False) -> Reservation | None:
    query = sa.select(Reservation).where(Reservation.proposal_id == proposal_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query.execution_options(populate_existing=True))


async def get(session: AsyncSession, reservation_id: uuid.UUID) -> Reservation | None:
    return await session.get(Reservation, reservation_id)


async def lines_of(session: AsyncSession, reservation_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[ReservationLine]]:
    out: dict[uuid.UUID, list[ReservationLine]] = {rid: [] for rid in reservation_ids}
    if reservation_ids:
        query = sa.select(ReservationLine).where(ReservationLine.reservation_id.in_(reservation_ids)).order_by(ReservationLine.site_id)
        for line in await session.scalars(query):
            out[line.reservation_id].append(line)
    return out


def add(session: AsyncSession, reservation: Reservation, lines: Sequence[ReservationLine]) -> None:
    session.add(reservation)
    session.add_all(lines)


async def search(
    session: AsyncSession,
    *,
    investor_org: str | None,
    gemeente_code: str | None,
    status: str | None,
    proposal_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[Reservation], str | None]:
    query = sa.select(Reservation)
    if investor_org is not None:
        query = query.where(Reservation.investor_org == investor_org)
    if gemeente_code is not None:
        query = query.where(
            sa.exists().where(ReservationLine.reservation_id == Reservation.id, ReservationLine.gemeente_code == gemeente_code)
        )
    if site_id is not None:
        query = query.where(sa.exists().where(ReservationLine.reservation_id == Reservation.id, ReservationLine.site_id == site_id))
    if status is not None:
        query = query.where(Reservation.status == status)
    if proposal_id is not None:
        query = query.where(Reservation.proposal_id == proposal_id)
    rows, next_cursor = await paginate(session, query, [Reservation.created_at, Reservation.id], limit, cursor)
    return [row[0] for row in rows], next_cursor
