"""Proposals: list, read, accept, decline (`/api/v1/proposals`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Body, Path, Query
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import repository as repo
from services.matching.app.proposals import service
from services.matching.app.proposals.models import Proposal
from services.matching.app.proposals.schemas import AllocationOut, DeclineIn, PartyOut, ProposalOut, ProposalStatus
from shared.domain import Role
from shared.web.deps import Runtime, Session, WriteSession
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses
from shared.web.mapping import to_schema

router = APIRouter(prefix="/proposals", tags=["proposals"])
ALL_ROLES = (Role.marktmeester, Role.investor, Role.municipality)
ProposalId = Annotated[uuid.UUID, Path(alias="id", description="The proposal's id.")]


async def to_out(session: AsyncSession, proposals: list[Proposal]) -> list[ProposalOut]:
    allocations = await repo.allocations_of(session, [p.id for p in proposals])
    out = []
    for p in proposals:
        accepted = {(a["role"], a["org"]) for a in p.acceptances}
        out.append(to_schema(
            ProposalOut, p,
            allocations=[to_schema(AllocationOut, a) for a in allocations[p.id]],
            cost={k: v for k, v in p.cost.items() if isinstance(v, (int, float))},
            parties=[PartyOut(role=x["role"], org=x["org"], accepted=(x["role"], x["org"]) in accepted) for x in p.parties],
        ))
    return out


@router.get("", response_model=Page[ProposalOut], summary="List proposals", responses=problem_responses(400, 401, 403))
async def list_proposals(
    principal: CurrentPrincipal, session: Session,
    status: Annotated[ProposalStatus | None, Query(description="Only proposals with this status.", examples=["pending"])] = None,
    placement: Annotated[uuid.UUID | None, Query(description="Only proposals for this placement.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[ProposalOut]:
    """Proposals visible to the caller: investors their own, municipalities those touching their plots, the marktmeester all."""
    require_role(principal, *ALL_ROLES)
    proposals, next_cursor = await repo.page_visible(
        session, principal, status=status, placement_id=placement, limit=limit, cursor=cursor
    )
    return Page(data=await to_out(session, proposals), next_cursor=next_cursor)


@router.get("/{id}", response_model=ProposalOut, summary="Get a proposal", responses=problem_responses(401, 403, 404))
async def get_proposal(principal: CurrentPrincipal, proposal_id: ProposalId, session: Session) -> ProposalOut:
    """With the per-term cost breakdown, the ladder rung, binding constraints and alternatives."""
    require_role(principal, *ALL_ROLES)
    proposal = await service.get_visible(session, principal, proposal_id)
    return (await to_out(session, [proposal]))[0]


@router.post("/{id}/accept", response_model=ProposalOut, summary="Accept a proposal", responses=problem_responses(401, 403, 404, 409))
async def accept_proposal(
    principal: CurrentPrincipal, proposal_id: ProposalId, session: WriteSession, runtime: Runtime
) -> ProposalOut:
    """The caller accepts for their side. When every party has accepted, `matching.proposal.accepted` is emitted
    and the plots' capacity is reserved."""
    require_role(principal, Role.investor, Role.municipality)
    proposal = await service.accept(session, runtime, principal, proposal_id)
    return (await to_out(session, [proposal]))[0]


@router.post(
    "/{id}/decline",
    response_model=ProposalOut,
    summary="Decline a proposal",
    responses=problem_responses(400, 401, 403, 404, 409),
)
async def decline_proposal(
    principal: CurrentPrincipal, proposal_id: ProposalId, session: WriteSession, runtime: Runtime,
    body: Annotated[DeclineIn | None, Body()] = None,
) -> ProposalOut:
    """The caller declines for their side (optionally with a reason): the homes go back to the pool and get a
    different proposal."""
    require_role(principal, Role.investor, Role.municipality)
    proposal = await service.decline(session, runtime, principal, proposal_id, body.reason if body else None)
    return (await to_out(session, [proposal]))[0]
