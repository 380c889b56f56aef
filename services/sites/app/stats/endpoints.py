"""`/stats/capacity` for the gateway's dashboard (marktmeester only)."""

from __future__ import annotations

from fastapi import APIRouter

from services.sites.app.db import clock_table
from services.sites.app.stats import service
from shared import product_clock
from services.sites.app.stats.schemas import CapacityStats
from shared.domain import Role
from shared.web.deps import Runtime, Session
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["stats"])


@router.get("/stats/capacity", response_model=CapacityStats, summary="Plot capacity statistics", responses=problem_responses(401, 403))
async def capacity_stats(principal: CurrentPrincipal, session: Session, runtime: Runtime) -> CapacityStats:
    require_role(principal, Role.marktmeester)
    return await service.capacity(session, await product_clock.today(session, runtime, clock_table))
