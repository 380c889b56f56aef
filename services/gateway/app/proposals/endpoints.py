"""/proposals: read by every party, accepted or declined by the investor and the plots' municipalities."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Depends, Request, Response

from services.gateway.app.auth import Authenticated, require_roles
from services.gateway.app.proposals.schemas import PlacementFilter, Proposal, ProposalDecline, ProposalStatusQuery
from services.gateway.app.routing import GatewayRoute
from services.gateway.app.upstream import forward
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["proposals"], route_class=GatewayRoute)

Party = Annotated[Principal, Depends(require_roles(Role.investor, Role.municipality))]
DeclineReason = Annotated[ProposalDecline | None, Body()]


@router.get("/proposals", response_model=Page[Proposal], summary="List proposals", responses=problem_responses(400, 503))
async def list_proposals(
    request: Request,
    principal: Authenticated,
    status: ProposalStatusQuery = None,
    placement: PlacementFilter = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """Investors see proposals for their complexes, municipalities those touching their plots, the marktmeester all."""
    return await forward(request, "matching", principal)


@router.get("/proposals/{id}", response_model=Proposal, summary="Get a proposal", responses=problem_responses(400, 404, 503))
async def get_proposal(request: Request, id: uuid.UUID, principal: Authenticated) -> Response:  # noqa: A002
    """With the per-term cost breakdown, the ladder rung, binding constraints and alternatives."""
    return await forward(request, "matching", principal)


@router.post(
    "/proposals/{id}/accept", response_model=Proposal, summary="Accept a proposal", responses=problem_responses(400, 404, 409, 503)
)
async def accept_proposal(request: Request, id: uuid.UUID, principal: Party) -> Response:  # noqa: A002
    """The caller accepts for their side; when every party accepted, the plots' capacity is reserved."""
    return await forward(request, "matching", principal)


@router.post(
    "/proposals/{id}/decline", response_model=Proposal, summary="Decline a proposal", responses=problem_responses(400, 404, 409, 503)
)
async def decline_proposal(request: Request, id: uuid.UUID, principal: Party, body: DeclineReason = None) -> Response:  # noqa: A002
    """The caller declines for their side (optionally with a reason); the homes get a different proposal."""
    return await forward(request, "matching", principal)
