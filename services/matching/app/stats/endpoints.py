"""`GET /api/v1/stats/proposals` for the marktmeester (the gateway's dashboard)."""

from __future__ import annotations

from fastapi import APIRouter

from services.matching.app.stats import service
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
    return await service.proposal_stats(session)
