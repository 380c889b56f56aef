"""/map/sites.geojson (public) and /map/placements.geojson (scoped by role)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Authenticated, Caller
from services.gateway.app.placements.schemas import ComplexFilter, ExpiringBeforeQuery, PlacementStatusQuery
from services.gateway.app.routing import GatewayRoute
from services.gateway.app.sites.schemas import BboxQuery, KindQuery, MunicipalityQuery, ProvinceQuery, StatusQuery
from services.gateway.app.upstream import forward
from services.inventory.app.stats.schemas import PlacementFeatureCollection
from services.sites.app.sites.schemas import SiteFeatureCollection
from shared.web.geojson import GeoJSONResponse
from shared.web.problems import problem_responses

router = APIRouter(tags=["maps"], route_class=GatewayRoute)


@router.get(
    "/map/sites.geojson",
    response_model=SiteFeatureCollection,
    response_class=GeoJSONResponse,
    summary="Map of plots",
    responses=problem_responses(400, 503),
)
async def sites_map(
    request: Request,
    principal: Caller,
    status: StatusQuery = None,
    municipality: MunicipalityQuery = None,
    province: ProvinceQuery = None,
    kind: KindQuery = None,
    bbox: BboxQuery = None,
) -> Response:
    """Published plots as GeoJSON; no token needed. Same filters as the plot listing."""
    return await forward(request, "sites", principal)


@router.get(
    "/map/placements.geojson",
    response_model=PlacementFeatureCollection,
    response_class=GeoJSONResponse,
    summary="Map of placements",
    responses=problem_responses(400, 503),
)
async def placements_map(
    request: Request,
    principal: Authenticated,
    status: PlacementStatusQuery = None,
    expiringBefore: ExpiringBeforeQuery = None,  # noqa: N803 - NLGov: query keys are lowerCamelCase
    complex: ComplexFilter = None,  # noqa: A002
) -> Response:
    """Placements as GeoJSON: investors their own, municipalities those in their gemeente, the marktmeester all."""
    return await forward(request, "inventory", principal)
