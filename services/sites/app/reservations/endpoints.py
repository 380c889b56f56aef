"""HTTP API of reservations: `/reservations`, `/reservations/{id}` (read-only; made by events)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from services.sites.app.reservations import service
from services.sites.app.reservations.schemas import Reservation, ReservationPage
from shared.web.deps import Session
from shared.web.identity import CurrentPrincipal
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from shared.web.problems import problem_responses

router = APIRouter(tags=["reservations"])


@router.get(
    "/reservations",
    response_model=ReservationPage,
    summary="List capacity reservations",
    responses=problem_responses(400, 401, 403),
)
async def list_reservations(
    principal: CurrentPrincipal,
    session: Session,
    status: Annotated[Literal["confirmed", "rejected", "released"] | None, Query(description="Only this outcome.")] = None,
    proposal: Annotated[uuid.UUID | None, Query(description="Only the reservation of this proposal.")] = None,
    site: Annotated[uuid.UUID | None, Query(description="Only reservations touching this plot.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> ReservationPage:
    """The marktmeester sees all; a municipality those on its own plots; an investor its own."""
    data, next_cursor = await service.list_page(
        session, principal, status=status, proposal_id=proposal, site_id=site, limit=limit, cursor=cursor
    )
    return ReservationPage(data=data, next_cursor=next_cursor)


@router.get(
    "/reservations/{reservation_id}",
    response_model=Reservation,
    summary="Get a reservation",
    responses=problem_responses(400, 401, 403, 404),
)
async def get_reservation(principal: CurrentPrincipal, reservation_id: uuid.UUID, session: Session) -> Reservation:
    return await service.get(session, principal, reservation_id)
