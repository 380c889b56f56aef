"""The proposal statistics of the marktmeester's dashboard."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import repository as proposals
from services.matching.app.proposals.models import ALL_STATUSES
from services.matching.app.proposals.service import shortfall_by_province_quarter
from services.matching.app.readmodel import repository as readmodel
from services.matching.app.stats.schemas import ProposalStats


async def proposal_stats(session: AsyncSession) -> ProposalStats:
    counts = await proposals.count_by_status(session)
    shortfall = shortfall_by_province_quarter(await readmodel.open_shortfall(session))
    return ProposalStats(
        proposals_by_status={s: counts.get(s, 0) for s in ALL_STATUSES},
        open_demand_units=await readmodel.open_demand_units(session),
        shortfall_units=sum(c["units"] for c in shortfall),
        shortfall=shortfall,
    )
