"""HTTP endpoints of placements."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.deps import Runtime, Session
from shared.web.idempotency import IdempotencyKey, create_once
from services.inventory.app.placements import repository, service
from services.inventory.app.placements.models import Placement
from services.inventory.app.placements.schemas import PlacementCreate, PlacementDetail, PlacementOut, PlacementStatus
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, paginate
from shared.web.problems import not_found, problem_responses

router = APIRouter(tags=["placements"])



@router.post("/placements", status_code=201, response_model=PlacementDetail, responses=problem_responses(400, 401, 403, 404, 409, 422))
async def create_placement(
    body: PlacementCreate, principal: CurrentPrincipal, runtime: Runtime, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Place a complex (or some of its units) under a permit; the end date must fit the instrument's maximum term.

    A unit can stand in only one placement at a time (overlapping terms: 409). Emits `inventory.placement.created`.
    """
    require_role(principal, Role.investor, Role.marktmeester)

    async def create(session):  # noqa: ANN001, ANN202
        today = await clock_today(session, runtime)
        placement, unit_ids = await service.create(session, runtime, principal, body, today)
        detail = service.to_detail(placement, service.status_of(placement, today), unit_ids)
        return 201, detail, {"Location": f"/api/v1/placements/{placement.id}"}

    return await create_once(
        runtime, principal, "POST /placements", idempotency_key, body, create,
        replay_headers=lambda stored: {"Location": f"/api/v1/placements/{stored['id']}"},
    )


@router.get("/placements", response_model=Page[PlacementOut], responses=problem_responses(400, 401, 403))
async def list_placements(
    principal: CurrentPrincipal,
    session: Session,
    runtime: Runtime,
    expiring_before: Annotated[dt.date | None, Query(alias="expiringBefore", description="Only placements whose end date is before this date.")] = None,
    complex_id: Annotated[uuid.UUID | None, Query(alias="complex")] = None,
    gemeente: Annotated[str | None, Query(pattern=r"^GM\d{4}$")] = None,
    status: PlacementStatus | None = None,
    site_id: Annotated[uuid.UUID | None, Query(alias="siteId")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[PlacementOut]:
    """Placements the caller may see, soonest end date first (investors: own; municipalities: in their gemeente)."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    query = repository.visible(principal, today)
    if expiring_before:
        query = query.where(Placement.end_date < expiring_before)
    if complex_id:
        query = query.where(Placement.complex_id == complex_id)
    if gemeente:
        query = query.where(Placement.gemeente_code == gemeente)
    if site_id:
        query = query.where(Placement.site_id == site_id)
    if status:
        query = query.where(repository.status_expr(today) == status.value)
    rows, next_cursor = await paginate(session, query, [Placement.end_date, Placement.id], limit, cursor)
    return Page[PlacementOut](data=[service.to_out(r[0], r[1]) for r in rows], next_cursor=next_cursor)


@router.get("/placements/{placement_id}", response_model=PlacementDetail, responses=problem_responses(400, 401, 403, 404))
async def get_placement(placement_id: uuid.UUID, principal: CurrentPrincipal, session: Session, runtime: Runtime) -> PlacementDetail:
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    row = (await session.execute(repository.visible(principal, today).where(Placement.id == placement_id))).first()
    if row is None:
        raise not_found("placement", placement_id)
    return service.to_detail(row[0], row[1], await repository.unit_ids_of(session, placement_id))


