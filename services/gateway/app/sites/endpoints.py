"""/sites: the public plot listing (no token needed) and publishing by municipalities."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response

from services.gateway.app.auth import Caller, require_roles
from services.gateway.app.routing import GatewayRoute
from shared.web.idempotency import IdempotencyKey
from services.gateway.app.sites.schemas import (
    AvailableFromQuery,
    AvailableUntilQuery,
    BboxQuery,
    FreeAtQuery,
    KindQuery,
    MinFreeUnitsQuery,
    MunicipalityQuery,
    NearLatQuery,
    NearLonQuery,
    ProvinceQuery,
    Site,
    SiteCreate,
    SiteUpdate,
    SortQuery,
    StatusQuery,
    WithinKmQuery,
)
from services.gateway.app.upstream import forward
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["sites"], route_class=GatewayRoute)

Publisher = Annotated[Principal, Depends(require_roles(Role.municipality, Role.marktmeester))]


@router.get("/sites", response_model=Page[Site], summary="List plots", responses=problem_responses(400, 503))
async def list_sites(
    request: Request,
    principal: Caller,
    status: StatusQuery = None,
    municipality: MunicipalityQuery = None,
    province: ProvinceQuery = None,
    kind: KindQuery = None,
    free_at: FreeAtQuery = None,
    min_free_units: MinFreeUnitsQuery = None,
    available_from: AvailableFromQuery = None,
    available_until: AvailableUntilQuery = None,
    near_lat: NearLatQuery = None,
    near_lon: NearLonQuery = None,
    within_km: WithinKmQuery = None,
    bbox: BboxQuery = None,
    sort: SortQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """Published plots for everyone; with a token a municipality also sees its own drafts.

    With `nearLat`/`nearLon` every plot carries `distance_km`. The filters are validated here
    and passed on unchanged to the sites service, which checks their combinations.
    """
    return await forward(request, "sites", principal)


@router.post(
    "/sites", response_model=Site, status_code=201, summary="Publish a plot", responses=problem_responses(400, 409, 422, 503)
)
async def publish_site(request: Request, body: SiteCreate, principal: Publisher, idempotency_key: IdempotencyKey = None) -> Response:
    """A municipality publishes a plot in its own gemeente (or saves it as a draft)."""
    return await forward(request, "sites", principal)


@router.get("/sites/{id}", response_model=Site, summary="Get a plot", responses=problem_responses(400, 404, 503))
async def get_site(request: Request, id: uuid.UUID, principal: Caller) -> Response:  # noqa: A002
    return await forward(request, "sites", principal)


@router.patch("/sites/{id}", response_model=Site, summary="Change a plot", responses=problem_responses(400, 404, 409, 503))
async def update_site(request: Request, id: uuid.UUID, body: SiteUpdate, principal: Publisher) -> Response:  # noqa: A002
    """Partial update by the plot's municipality; capacity never drops below what is reserved."""
    return await forward(request, "sites", principal)


@router.delete("/sites/{id}", response_model=Site, summary="Withdraw a plot", responses=problem_responses(400, 404, 409, 503))
async def withdraw_site(request: Request, id: uuid.UUID, principal: Publisher) -> Response:  # noqa: A002
    """Withdraw the plot from the market (it stays readable with status `withdrawn`)."""
    return await forward(request, "sites", principal)
