"""/dashboard/summary and /dashboard/forecast: who may read them is their row in app/routes.py."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request

from services.gateway.app.auth import requires
from services.gateway.app.dashboard import repository, service
from services.gateway.app.dashboard.schemas import DashboardForecast, DashboardSummary
from services.gateway.app.routes import ROUTES
from services.gateway.app.upstream import upstreams_of
from shared.web.identity import Principal
from shared.web.problems import problem_responses

router = APIRouter(tags=["dashboard"])

ACCESS = {row.path: row.access for row in ROUTES if row.path.startswith("/dashboard/")}
SummaryReader = Annotated[Principal, Depends(requires(ACCESS["/dashboard/summary"]))]
ForecastReader = Annotated[Principal, Depends(requires(ACCESS["/dashboard/forecast"]))]


@router.get("/dashboard/summary", response_model=DashboardSummary, summary="National summary", responses=problem_responses(502, 503))
async def dashboard_summary(request: Request, principal: SummaryReader) -> DashboardSummary:
    """Homes placed and ending, plot capacity, proposals by status and the solver's shortfall."""
    placements, capacity, proposals = await repository.all_stats(upstreams_of(request), principal)
    return service.build_summary(placements, capacity, proposals)


@router.get(
    "/dashboard/forecast", response_model=DashboardForecast, summary="Ten-year forecast", responses=problem_responses(502, 503)
)
async def dashboard_forecast(request: Request, principal: ForecastReader) -> DashboardForecast:
    """Per quarter and province for the next 10 years: homes whose term ends vs. plot capacity, and the gap."""
    placements, capacity, proposals = await repository.all_stats(upstreams_of(request), principal)
    return service.build_forecast(placements, capacity, proposals)
