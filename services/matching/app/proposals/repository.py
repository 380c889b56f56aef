"""Queries over proposals."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals.models import Proposal, ProposalAllocation
from shared.domain import Role
from shared.web.identity import Principal


def visible_to(principal: Principal) -> sa.Select:
    """Investors: their own; municipalities: proposals touching their plots; marktmeester: all."""
    q = sa.select(Proposal)
    if principal.role is Role.investor:
        q = q.where(Proposal.investor_org == principal.org)
    elif principal.role is Role.municipality:
        touching = sa.select(ProposalAllocation.proposal_id).where(ProposalAllocation.gemeente_code == principal.org)
        q = q.where(Proposal.id.in_(touching))
    elif principal.role is not Role.marktmeester:
        q = q.where(sa.false())
    return q


async def allocations_of(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ProposalAllocation]]:
    out: dict[uuid.UUID, list[ProposalAllocation]] = {i: [] for i in ids}
    if ids:
        rows = await session.scalars(
            sa.select(ProposalAllocation).where(ProposalAllocation.proposal_id.in_(ids)).order_by(ProposalAllocation.site_id)
        )
        for r in rows:
            out[r.proposal_id].append(r)
    return out


async def open_proposal_for(session: AsyncSession, placement_id: uuid.UUID, statuses: tuple[str, ...]) -> Proposal | None:
    return await session.scalar(
        sa.select(Proposal).where(Proposal.placement_id == placement_id, Proposal.status.in_(statuses)).with_for_update()
    )


async def proposals_on_site(session: AsyncSession, site_id: uuid.UUID, statuses: tuple[str, ...]) -> list[Proposal]:
    q = (
        sa.select(Proposal)
        .join(ProposalAllocation, ProposalAllocation.proposal_id == Proposal.id)
        .where(ProposalAllocation.site_id == site_id, Proposal.status.in_(statuses))
        .with_for_update(of=Proposal)
    )
    return list((await session.scalars(q)).all())
