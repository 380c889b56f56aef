"""Cross-service statistics and the placements map (the gateway's dashboard reads these)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

import orjson
import sqlalchemy as sa
from fastapi import APIRouter, Query
from fastapi.responses import Response

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.deps import Runtime, Session
from services.inventory.app.placements import repository as placements
from services.inventory.app.placements.models import Placement
from services.inventory.app.placements.schemas import PlacementStatus
from services.inventory.app.stats import service
from shared.web.geojson import GEOJSON_MEDIA_TYPE
from services.inventory.app.stats.schemas import PlacementFeatureCollection, PlacementStats
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["stats"])

@router.get("/stats/placements", response_model=PlacementStats, responses=problem_responses(401, 403))
async def placement_stats(principal: CurrentPrincipal, session: Session, runtime: Runtime) -> PlacementStats:
    """Homes placed, and homes whose term ends within 12/24 months and per quarter and province (marktmeester)."""
    require_role(principal, Role.marktmeester)
    return await service.placement_stats(session, await clock_today(session, runtime))


@router.get(
    "/map/placements.geojson",
    response_model=PlacementFeatureCollection,
    responses={200: {"content": {GEOJSON_MEDIA_TYPE: {}}}, **problem_responses(400, 401, 403)},
)
async def placements_map(
    principal: CurrentPrincipal,
    session: Session,
    runtime: Runtime,
    status: PlacementStatus | None = None,
    expiring_before: Annotated[dt.date | None, Query(alias="expiringBefore")] = None,
    complex_id: Annotated[uuid.UUID | None, Query(alias="complex")] = None,
) -> Response:
    """Placements as a GeoJSON FeatureCollection of points, scoped like the placement list."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    today = await clock_today(session, runtime)
    status_col = placements.status_expr(today).label("status")
    query = placements.scope(
        sa.select(
            Placement.id, Placement.complex_id, Placement.investor_org, Placement.gemeente_code,
            Placement.unit_count, Placement.end_date, Placement.lat, Placement.lon, status_col,
        ),
        principal,
    )
    if status:
        query = query.where(placements.status_expr(today) == status.value)
    if expiring_before:
        query = query.where(Placement.end_date < expiring_before)
    if complex_id:
        query = query.where(Placement.complex_id == complex_id)
    rows = (await session.execute(query.order_by(Placement.end_date, Placement.id))).all()
    features = [
        {
            "type": "Feature",
            "geometry": {"type": "Point", "coordinates": [r.lon, r.lat]},
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
    return Response(orjson.dumps({"type": "FeatureCollection", "features": features}), media_type=GEOJSON_MEDIA_TYPE)
