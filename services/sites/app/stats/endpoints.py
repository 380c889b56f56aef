"""`/stats/capacity` for the gateway's dashboard (marktmeester only)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.sites.app.stats import service
from services.sites.app.stats.schemas import CapacityStats
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["stats"])


@router.get("/stats/capacity", response_model=CapacityStats, summary="Plot capacity statistics", responses=problem_responses(401, 403))
async def capacity_stats(request: Request, principal: CurrentPrincipal) -> CapacityStats:
    require_role(principal, Role.marktmeester)
    runtime = request.app.state.runtime
    async with runtime.db.sessions() as session:
        return await service.capacity(session, runtime.clock.today())
