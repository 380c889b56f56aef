"""Cross-service statistics and the placements map (the gateway's dashboard reads these)."""

from __future__ import annotations

import orjson
from fastapi import APIRouter
from fastapi.responses import Response

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.deps import Runtime, Session
from services.inventory.app.placements import repository as placements
from services.inventory.app.placements.schemas import ComplexQuery, ExpiringBeforeQuery, StatusQuery
from services.inventory.app.stats import service
from shared.web.geojson import GEOJSON_MEDIA_TYPE
from services.inventory.app.stats.schemas import PlacementFeatureCollection, PlacementStats
from shared.domain import Role
from shared.geo import Crs, transform_geometry
from shared.web.crs import CONTENT_CRS_RESPONSE_HEADER, AcceptCrsHeader, BboxCrsQuery, BboxQuery, CrsQuery, bbox_filter, declare, response_crs
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import InvalidInput, problem_responses

router = APIRouter(tags=["stats"])

@router.get("/stats/placements", response_model=PlacementStats, responses=problem_responses(401, 403))
async def placement_stats(principal: CurrentPrincipal, session: Session, runtime: Runtime) -> PlacementStats:
    """Homes placed, and homes whose term ends within 12/24 months and per quarter and province (marktmeester)."""
    require_role(principal, Role.marktmeester)
    return await service.placement_stats(session, await clock_today(session, runtime))


@router.get(
    "/map/placements.geojson",
    response_model=PlacementFeatureCollection,
    tags=["maps"],
    summary="Map of placements",
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}, "headers": CONTENT_CRS_RESPONSE_HEADER}, **problem_responses(400, 401, 403, 406)},
)
async def placements_map(
    principal: CurrentPrincipal,
    session: Session,
    runtime: Runtime,
    status: StatusQuery = None,
    expiring_before: ExpiringBeforeQuery = None,
    complex_id: ComplexQuery = None,
    bbox: BboxQuery = None,
    bbox_crs_value: BboxCrsQuery = None,
    crs: CrsQuery = None,
    accept_crs: AcceptCrsHeader = None,
) -> Response:
    """Placements as a GeoJSON FeatureCollection of points, scoped like the placement list: investors their own,
    municipalities those in their gemeente, the marktmeester all. Positions in WGS84 unless `crs` or `Accept-Crs`
    asks for RD New; `bbox` (in `bbox-crs`) keeps only the placements inside it."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    box, errors = bbox_filter(bbox, bbox_crs_value)
    if errors:
        raise InvalidInput(errors, where="query")
    target = response_crs(accept_crs, crs)
    today = await clock_today(session, runtime)
    rows = await placements.map_rows(
        session, principal, today, status=status and status.value, expiring_before=expiring_before, complex_id=complex_id,
        bbox=box,
    )
    features = [
        {
            "type": "Feature",
            "geometry": transform_geometry({"type": "Point", "coordinates": [r.lon, r.lat]}, Crs.wgs84, target),
            "properties": {
                "placement_id": str(r.id),
                "complex_id": str(r.complex_id),
                "investor_org": r.investor_org,
                "gemeente_code": r.gemeente_code,
                "units": r.unit_count,
                "end_date": r.end_date.isoformat(),
                "status": r.status,
            },
        }
        for r in rows
    ]
    answer = Response(orjson.dumps({"type": "FeatureCollection", "features": features}), media_type=GEOJSON_MEDIA_TYPE)
    declare(answer, target)
    return answer
