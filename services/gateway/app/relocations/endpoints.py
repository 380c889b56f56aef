"""/relocations: which homes move where and when, once every party accepted a proposal."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Authenticated
from services.gateway.app.relocations.schemas import ComplexFilter, PlacementFilter, Relocation
from services.gateway.app.routing import GatewayRoute
from services.gateway.app.upstream import forward
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["relocations"], route_class=GatewayRoute)


@router.get("/relocations", response_model=Page[Relocation], summary="List relocations", responses=problem_responses(400, 503))
async def list_relocations(
    request: Request,
    principal: Authenticated,
    complex: ComplexFilter = None,  # noqa: A002
    placement: PlacementFilter = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """Investors see their own, municipalities those moving from or to their gemeente, the marktmeester all."""
    return await forward(request, "inventory", principal)


@router.get("/relocations/{id}", response_model=Relocation, summary="Get a relocation", responses=problem_responses(400, 404, 503))
async def get_relocation(request: Request, id: uuid.UUID, principal: Authenticated) -> Response:  # noqa: A002
    return await forward(request, "inventory", principal)
