"""HTTP endpoints of placements."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query
from fastapi.responses import JSONResponse

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.deps import Runtime, Session, WriteSession
from shared.web.idempotency import IdempotencyKey, answer
from services.inventory.app.placements import repository, service
from services.inventory.app.placements.schemas import (
    ComplexQuery,
    ExpiringBeforeQuery,
    PlacementCreate,
    PlacementDetail,
    PlacementOut,
    StatusQuery,
)
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import created_responses, not_found, problem_responses

router = APIRouter(tags=["placements"])

PlacementId = Annotated[uuid.UUID, Path(alias="id", description="The placement's id.")]



@router.post(
    "/placements",
    status_code=201,
    response_model=PlacementDetail,
    summary="Record a placement",
    responses=created_responses(400, 401, 403, 404, 409, 422),
)
async def create_placement(
    body: PlacementCreate,
    principal: CurrentPrincipal,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """Place a complex (or some of its units) under a permit; the end date must fit the instrument's maximum term.

    A unit can stand in only one placement at a time (overlapping terms: 409). Emits `inventory.placement.created`.
    """
    require_role(principal, Role.investor, Role.marktmeester)
    today = await clock_today(session, runtime)
    placement, unit_ids = await service.create(session, runtime, principal, body, today)
    detail = service.to_detail(placement, service.status_of(placement, today), unit_ids)
    return answer(session, detail, location=f"/api/v1/placements/{placement.id}")


@router.get("/placements", response_model=Page[PlacementOut], summary="List placements", responses=problem_responses(400, 401, 403))
async def list_placements(
    principal: CurrentPrincipal,
    session: Session,
    runtime: Runtime,
    expiring_before: ExpiringBeforeQuery = None,
    complex_id: ComplexQuery = None,
    gemeente: Annotated[
        str | None, Query(pattern=r"^GM\d{4}$", description="Only placements in this gemeente.", examples=["GM0772"])
    ] = None,
    status: StatusQuery = None,
    site_id: Annotated[uuid.UUID | None, Query(alias="siteId", description="Only placements on this plot.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[PlacementOut]:
    """Placements the caller may see, soonest end date first (investors: own; municipalities: in their gemeente;
    the marktmeester: all)."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    rows, next_cursor = await repository.page_visible(
        session, principal, today, expiring_before=expiring_before, complex_id=complex_id, gemeente=gemeente,
        site_id=site_id, status=status and status.value, limit=limit, cursor=cursor,
    )
    return Page[PlacementOut](data=[service.to_out(p, s) for p, s in rows], next_cursor=next_cursor)


@router.get("/placements/{id}", response_model=PlacementDetail, summary="Get a placement", responses=problem_responses(400, 401, 403, 404))
async def get_placement(placement_id: PlacementId, principal: CurrentPrincipal, session: Session, runtime: Runtime) -> PlacementDetail:
    """One placement the caller may see, with its status on today's clock and the ids of its units."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    found = await repository.get_visible(session, principal, today, placement_id)
    if found is None:
        raise not_found("placement", placement_id)
    placement, status = found
    return service.to_detail(placement, status, await repository.unit_ids_of(session, placement_id))


