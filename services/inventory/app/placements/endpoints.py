"""HTTP endpoints of placements."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.deps import Runtime, Session, WriteSession
from shared.web.idempotency import IdempotencyKey, answer
from services.inventory.app.placements import repository, service
from services.inventory.app.placements.schemas import (
    ComplexQuery,
    EndStateChange,
    ExpiringBeforeQuery,
    PlacementCreate,
    PlacementDetail,
    PlacementOut,
    PlacementUpdate,
    StatusQuery,
)
from shared.domain import Role
from shared.web.concurrency import ETAG_RESPONSE, IfMatch, etag
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


@router.get(
    "/placements/{id}",
    response_model=PlacementDetail,
    summary="Get a placement",
    responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
async def get_placement(
    placement_id: PlacementId, principal: CurrentPrincipal, session: Session, runtime: Runtime, response: Response
) -> PlacementDetail:
    """One placement the caller may see, with its status on today's clock, its lifecycle and the ids of its units.

    `ETag` is the placement's `version`: send it back as `If-Match` when changing the placement."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    found = await repository.get_visible(session, principal, today, placement_id)
    if found is None:
        raise not_found("placement", placement_id)
    placement, status = found
    response.headers["ETag"] = etag(placement.version)
    return service.to_detail(placement, status, await repository.unit_ids_of(session, placement_id))


@router.patch(
    "/placements/{id}",
    response_model=PlacementDetail,
    summary="Change a placement",
    responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 404, 409, 412)},
)
async def update_placement(
    placement_id: PlacementId,
    body: PlacementUpdate,
    principal: CurrentPrincipal,
    session: WriteSession,
    runtime: Runtime,
    response: Response,
    if_match: IfMatch = None,
) -> PlacementDetail:
    """Stay by extension (a new `end_date` within the instrument's maximum term) or change the permit reference.

    By the owning investor or the marktmeester. A new end date returns the homes to in place (also from storage or
    the fallback) and they are signalled expiring again for it in time. Refused (409) once closed or when a relocation
    is scheduled; with `If-Match` (the `ETag` of a GET) a change to a placement changed since is refused (412).
    Emits `inventory.placement.updated`.
    """
    require_role(principal, Role.investor, Role.marktmeester)
    today = await clock_today(session, runtime)
    placement, unit_ids = await service.update(session, runtime, principal, placement_id, body, today, if_match)
    response.headers["ETag"] = etag(placement.version)
    return service.to_detail(placement, service.status_of(placement, today), unit_ids)


@router.post(
    "/placements/{id}/end-state",
    status_code=200,
    response_model=PlacementDetail,
    summary="Choose the homes' end state",
    responses=problem_responses(400, 401, 403, 404, 409),
)
async def close_placement(
    placement_id: PlacementId,
    body: EndStateChange,
    principal: CurrentPrincipal,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """The investor (or the marktmeester) ends the life of the placement's homes: sold or dismantled.

    The homes leave the books (units `sold`/`dismantled`, lifecycle `closed_*`) and `inventory.placement.closed` is
    emitted. Refused (409) once a relocation is scheduled for the homes, or when the placement is already closed.
    """
    require_role(principal, Role.investor, Role.marktmeester)
    today = await clock_today(session, runtime)
    placement, unit_ids = await service.close(session, runtime, principal, placement_id, body, today)
    return answer(session, service.to_detail(placement, service.status_of(placement, today), unit_ids), status=200)
