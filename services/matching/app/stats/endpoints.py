"""`GET /api/v1/stats/proposals` for the marktmeester (the gateway's dashboard)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter

from services.matching.app.proposals.models import ALL_STATUSES, Proposal
from services.matching.app.proposals.service import shortfall_by_province_quarter
from services.matching.app.readmodel.models import PlacementDemand
from services.matching.app.stats.schemas import ProposalStats
from shared.domain import Role
from shared.web.deps import Session
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(prefix="/stats", tags=["stats"])


@router.get("/proposals", response_model=ProposalStats, responses=problem_responses(401, 403))
async def proposal_stats(principal: CurrentPrincipal, session: Session) -> ProposalStats:
    """Proposals by status; open demand (homes waiting or in an open proposal); shortfall by province and quarter."""
    require_role(principal, Role.marktmeester)
    counts = dict((await session.execute(sa.select(Proposal.status, sa.func.count()).group_by(Proposal.status))).all())
    open_units = await session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(PlacementDemand.unit_count), 0))
        .where(PlacementDemand.demand_status.in_(("waiting", "proposed")))
    )
    rows = (await session.execute(
        sa.select(PlacementDemand.province_code, PlacementDemand.end_date, PlacementDemand.shortfall_units)
        .where(PlacementDemand.demand_status.in_(("waiting", "proposed")), PlacementDemand.shortfall_units > 0)
    )).all()
    shortfall = shortfall_by_province_quarter([tuple(r) for r in rows])
    return ProposalStats(
        proposals_by_status={s: int(counts.get(s, 0)) for s in ALL_STATUSES}, open_demand_units=int(open_units or 0),
        shortfall_units=sum(c["units"] for c in shortfall), shortfall=shortfall,
    )
