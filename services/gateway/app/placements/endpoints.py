"""/placements: where complexes stand and until when."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Authenticated, ComplexOwner
from services.gateway.app.routing import GatewayRoute
from shared.web.idempotency import IdempotencyKey
from services.gateway.app.placements.schemas import (
    ComplexFilter,
    ExpiringBeforeQuery,
    GemeenteFilter,
    Placement,
    PlacementCreate,
    PlacementDetail,
    PlacementStatusQuery,
    SiteFilter,
)
from services.gateway.app.upstream import forward
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["placements"], route_class=GatewayRoute)


@router.get("/placements", response_model=Page[Placement], summary="List placements", responses=problem_responses(400, 503))
async def list_placements(
    request: Request,
    principal: Authenticated,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    expiringBefore: ExpiringBeforeQuery = None,  # noqa: N803 - NLGov: query keys are lowerCamelCase
    complex: ComplexFilter = None,  # noqa: A002
    gemeente: GemeenteFilter = None,
    status: PlacementStatusQuery = None,
    siteId: SiteFilter = None,  # noqa: N803
) -> Response:
    """Scoped by role: investors their own, municipalities those in their gemeente, the marktmeester all.

    Soonest end date first.
    """
    return await forward(request, "inventory", principal)


@router.post(
    "/placements",
    response_model=PlacementDetail,
    status_code=201,
    summary="Record a placement",
    responses=problem_responses(400, 404, 409, 422, 503),
)
async def create_placement(
    request: Request, body: PlacementCreate, principal: ComplexOwner, idempotency_key: IdempotencyKey = None
) -> Response:
    return await forward(request, "inventory", principal)


@router.get("/placements/{id}", response_model=PlacementDetail, summary="Get a placement", responses=problem_responses(400, 404, 503))
async def get_placement(request: Request, id: uuid.UUID, principal: Authenticated) -> Response:  # noqa: A002
    return await forward(request, "inventory", principal)
