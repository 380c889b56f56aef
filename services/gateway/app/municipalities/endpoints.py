"""/municipalities: public, no token needed; served by the sites service, which owns the reference data."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response

from services.gateway.app.auth import Caller
from services.gateway.app.routing import GatewayRoute
from services.gateway.app.sites.schemas import ProvinceQuery
from services.gateway.app.upstream import forward
from services.sites.app.municipalities.schemas import Municipality, MunicipalityPage
from shared.web.pagination import CursorQuery, LimitQuery
from shared.web.problems import problem_responses

router = APIRouter(tags=["municipalities"], route_class=GatewayRoute)


@router.get("/municipalities", response_model=MunicipalityPage, summary="List municipalities", responses=problem_responses(400, 503))
async def list_municipalities(
    request: Request,
    principal: Caller,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    province: ProvinceQuery = None,
) -> Response:
    """The 342 gemeenten of the CBS classification, ordered by code."""
    return await forward(request, "sites", principal)


@router.get(
    "/municipalities/{code}", response_model=Municipality, summary="Get a municipality", responses=problem_responses(400, 404, 503)
)
async def get_municipality(
    request: Request,
    principal: Caller,
    code: Annotated[str, Path(pattern=r"^GM\d{4}$", description="CBS gemeentecode.", examples=["GM0772"])],
) -> Response:
    return await forward(request, "sites", principal)
