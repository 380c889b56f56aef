"""Queries over the read model."""

from __future__ import annotations

import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals.models import OPEN_STATUSES, Proposal, ProposalAllocation
from services.matching.app.readmodel.models import PlacementDemand, PlotView


async def promised_units_by_site(session: AsyncSession) -> dict[uuid.UUID, int]:
    """Units promised to open (pending/accepted) proposals, per plot: not free for others."""
    rows = await session.execute(
        sa.select(ProposalAllocation.site_id, sa.func.sum(ProposalAllocation.units))
        .join(Proposal, Proposal.id == ProposalAllocation.proposal_id)
        .where(Proposal.status.in_(OPEN_STATUSES))
        .group_by(ProposalAllocation.site_id)
    )
    return {site_id: int(units) for site_id, units in rows.all()}


async def published_plots(session: AsyncSession) -> list[PlotView]:
    return list((await session.scalars(sa.select(PlotView).where(PlotView.status == "published").order_by(PlotView.site_id))).all())


async def waiting_demand(session: AsyncSession, placement_ids: list[uuid.UUID] | None = None) -> list[PlacementDemand]:
    q = sa.select(PlacementDemand).where(PlacementDemand.demand_status == "waiting")
    if placement_ids is not None:
        q = q.where(PlacementDemand.placement_id.in_(placement_ids))
    return list((await session.scalars(q.order_by(PlacementDemand.end_date, PlacementDemand.placement_id).with_for_update())).all())
