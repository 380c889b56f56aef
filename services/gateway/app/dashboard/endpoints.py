"""/dashboard/summary and /dashboard/forecast: for the marktmeester only."""

from __future__ import annotations

from fastapi import APIRouter, Request

from services.gateway.app.auth import Marktmeester
from services.gateway.app.dashboard import repository, service
from services.gateway.app.dashboard.schemas import DashboardForecast, DashboardSummary
from services.gateway.app.routing import GatewayRoute
from services.gateway.app.upstream import upstreams_of
from shared.web.problems import problem_responses

router = APIRouter(tags=["dashboard"], route_class=GatewayRoute)


@router.get("/dashboard/summary", response_model=DashboardSummary, summary="National summary", responses=problem_responses(502, 503))
async def dashboard_summary(request: Request, principal: Marktmeester) -> DashboardSummary:
    """Homes placed and ending, plot capacity, proposals by status and the solver's shortfall."""
    placements, capacity, proposals = await repository.all_stats(upstreams_of(request), principal)
    return service.build_summary(placements, capacity, proposals)


@router.get(
    "/dashboard/forecast", response_model=DashboardForecast, summary="Ten-year forecast", responses=problem_responses(502, 503)
)
async def dashboard_forecast(request: Request, principal: Marktmeester) -> DashboardForecast:
    """Per quarter and province for the next 10 years: homes whose term ends vs. plot capacity, and the gap."""
    placements, capacity, proposals = await repository.all_stats(upstreams_of(request), principal)
    return service.build_forecast(placements, capacity, proposals)
