"""HTTP API of plots: `/sites`, `/sites/{id}`, `/map/sites.geojson`."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from services.sites.app.sites import repository as repo
from services.sites.app.sites import service
from services.sites.app.sites.repository import SiteQuery
from services.sites.app.sites.schemas import Site, SiteFeatureCollection, SiteCreate, SitePage, SiteUpdate
from shared.domain import SiteKind
from shared.reference import municipalities, provinces
from shared.geo import Crs, transform_geometry
from shared.web.concurrency import ETAG_RESPONSE, IfMatch, etag
from shared.web.crs import (
    CONTENT_CRS_RESPONSE_HEADER,
    AcceptCrsHeader,
    BboxCrsQuery,
    BboxQuery,
    ContentCrsHeader,
    CrsQuery,
    bbox_filter,
    declare,
    request_crs,
    response_crs,
)
from shared.web.deps import Runtime, Session, WriteSession
from shared.web.idempotency import IdempotencyKey, answer
from shared.web.geojson import GEOJSON_MEDIA_TYPE
from shared.web.identity import CurrentPrincipal, Principal
from shared.web.limits import Day
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from shared.web.problems import InvalidInput, created_responses, problem_responses

router = APIRouter(tags=["sites"])

MAP_MAX_FEATURES = 20_000
WITH_CRS: dict[str, Any] = {"headers": CONTENT_CRS_RESPONSE_HEADER}
WITH_ETAG_AND_CRS: dict[str, Any] = {"headers": {**ETAG_RESPONSE["headers"], **CONTENT_CRS_RESPONSE_HEADER}}
SiteId = Annotated[uuid.UUID, Path(alias="id", description="The plot's id.")]


def _site_query(
    principal: Principal,
    *,
    status: str,
    municipality: str | None,
    province: str | None,
    kind: SiteKind | None,
    free_at: dt.date | None,
    min_free_units: int | None,
    available_from: dt.date | None,
    available_until: dt.date | None,
    near_lat: float | None,
    near_lon: float | None,
    within_km: float | None,
    bbox: str | None,
    sort: str,
    bbox_crs_value: str | None = None,
) -> SiteQuery:
    """Turn the query string into a SiteQuery, naming every inconsistent parameter at once."""
    errors: list[tuple[str, str]] = []
    if municipality is not None and municipality not in municipalities():
        errors.append(("municipality", f"{municipality} is not a known CBS gemeentecode"))
    if province is not None and province not in provinces():
        errors.append(("province", f"{province} is not a province code (PV20..PV31)"))
    if (near_lat is None) != (near_lon is None):
        errors.append(("nearLat" if near_lat is None else "nearLon", "nearLat and nearLon go together"))
    if within_km is not None and (near_lat is None or near_lon is None):
        errors.append(("withinKm", "needs nearLat and nearLon"))
    if sort == "distance" and (near_lat is None or near_lon is None):
        errors.append(("sort", "sorting by distance needs nearLat and nearLon"))
    if available_from and available_until and available_until < available_from:
        errors.append(("availableUntil", "must not be before availableFrom"))
    box, bbox_errors = bbox_filter(bbox, bbox_crs_value)
    errors += bbox_errors
    if errors:
        raise InvalidInput(errors, where="query")
    if free_at is not None and min_free_units is None:
        min_free_units = 1  # "free at a date" means at least one home fits
    return SiteQuery(
        statuses=(status,),
        owner_gemeente=principal.org if principal.role is not None and principal.role.value == "municipality" else None,
        see_all_statuses=principal.is_marktmeester,
        gemeente_code=municipality,
        province_code=province,
        kind=kind.value if kind else None,
        free_at=free_at,
        min_free_units=min_free_units,
        window_from=available_from,
        window_until=available_until,
        near=(near_lat, near_lon) if near_lat is not None and near_lon is not None else None,
        within_km=within_km,
        bbox=box,
        sort=sort,
    )


StatusQuery = Annotated[
    Literal["draft", "published", "withdrawn"],
    Query(
        description="Plots in this state (default `published`); drafts and withdrawn plots only for their municipality and the marktmeester.",
        examples=["published"],
    ),
]
MunicipalityQuery = Annotated[str | None, Query(pattern=r"^GM\d{4}$", description="CBS gemeentecode.", examples=["GM0772"])]
ProvinceQuery = Annotated[str | None, Query(pattern=r"^PV\d{2}$", description="CBS province code.", examples=["PV30"])]
KindQuery = Annotated[SiteKind | None, Query(description="Plot kind.", examples=["municipal"])]
FreeAtQuery = Annotated[
    Day | None,
    Query(alias="freeAt", description="Plots whose availability window contains this date with free capacity.", examples=["2027-06-01"]),
]
MinFreeUnitsQuery = Annotated[
    int | None,
    Query(alias="minFreeUnits", ge=1, le=10_000, description="At least this many free homes (default 1 with freeAt).", examples=[24]),
]
AvailableFromQuery = Annotated[
    Day | None,
    Query(alias="availableFrom", description="The window overlaps [availableFrom, availableUntil].", examples=["2027-01-01"]),
]
AvailableUntilQuery = Annotated[
    Day | None, Query(alias="availableUntil", description="End of the period the window must overlap.", examples=["2030-12-31"])
]
NearLatQuery = Annotated[
    float | None,
    Query(alias="nearLat", ge=-90, le=90, description="Latitude (WGS84) to measure `distance_km` from; with nearLon.", examples=[51.44]),
]
NearLonQuery = Annotated[
    float | None, Query(alias="nearLon", ge=-180, le=180, description="Longitude (WGS84); with nearLat.", examples=[5.47])
]
WithinKmQuery = Annotated[
    float | None,
    Query(alias="withinKm", gt=0, le=2000, description="Only plots within this distance of nearLat/nearLon.", examples=[25]),
]
SortQuery = Annotated[
    Literal["createdAt", "availableFrom", "distance"],
    Query(description="Sort order, ascending (default `createdAt`; `distance` needs nearLat/nearLon).", examples=["availableFrom"]),
]
@router.get(
    "/sites",
    response_model=SitePage,
    summary="List plots",
    responses={200: WITH_CRS, **problem_responses(400, 401, 406)},
)
async def list_sites(
    principal: CurrentPrincipal,
    session: Session,
    status: StatusQuery = "published",
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
    bbox_crs_value: BboxCrsQuery = None,
    crs: CrsQuery = None,
    accept_crs: AcceptCrsHeader = None,
    sort: SortQuery = "createdAt",
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
    *,
    response: Response,
) -> SitePage:
    """Published plots for everyone; with a token a municipality also sees its own drafts.

    With `nearLat`/`nearLon` every plot carries `distance_km`; the service checks how the filters combine.
    """
    q = _site_query(
        principal,
        status=status,
        municipality=municipality,
        province=province,
        kind=kind,
        free_at=free_at,
        min_free_units=min_free_units,
        available_from=available_from,
        available_until=available_until,
        near_lat=near_lat,
        near_lon=near_lon,
        within_km=within_km,
        bbox=bbox,
        sort=sort,
        bbox_crs_value=bbox_crs_value,
    )
    target = response_crs(accept_crs, crs)
    rows, next_cursor = await repo.search(session, q, limit, cursor)
    declare(response, target)
    return SitePage(data=[service.to_api(site, distance, target) for site, distance in rows], next_cursor=next_cursor)


@router.post(
    "/sites",
    response_model=Site,
    status_code=201,
    summary="Publish a plot",
    responses=created_responses(400, 401, 403, 406, 422),
)
async def publish_site(
    principal: CurrentPrincipal,
    body: SiteCreate,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
    content_crs: ContentCrsHeader = None,
    accept_crs: AcceptCrsHeader = None,
) -> JSONResponse:
    """A municipality publishes a plot in its own gemeente (or saves it as a draft); the marktmeester anywhere
    (e.g. garantiekavels). Emits `sites.site.published` unless saved as a draft."""
    source, target = request_crs(content_crs), response_crs(accept_crs)
    site = await service.create(session, runtime, principal, body, source)
    created = answer(session, service.to_api(site, crs=target).model_dump(mode="json"), location=f"/api/v1/sites/{site.id}")
    declare(created, target)
    return created


@router.get(
    "/sites/{id}", response_model=Site, summary="Get a plot", responses={200: WITH_ETAG_AND_CRS, **problem_responses(400, 401, 404, 406)}
)
async def get_site(
    principal: CurrentPrincipal, site_id: SiteId, session: Session, response: Response, accept_crs: AcceptCrsHeader = None
) -> Site:
    """A published plot; a draft or withdrawn plot only for its municipality and the marktmeester.

    `ETag` is the plot's `version`: send it back as `If-Match` when changing the plot."""
    target = response_crs(accept_crs)
    site = await service.get_visible(session, principal, site_id)
    response.headers["ETag"] = etag(site.version)
    declare(response, target)
    return service.to_api(site, crs=target)


@router.patch(
    "/sites/{id}",
    response_model=Site,
    summary="Change a plot",
    responses={200: WITH_ETAG_AND_CRS, **problem_responses(400, 401, 403, 404, 406, 409, 412)},
)
async def update_site(
    principal: CurrentPrincipal, site_id: SiteId, body: SiteUpdate, session: WriteSession, runtime: Runtime,
    response: Response, if_match: IfMatch = None, content_crs: ContentCrsHeader = None, accept_crs: AcceptCrsHeader = None,
) -> Site:
    """Partial update by the plot's municipality (also publishes a draft); capacity never drops below what is reserved.

    Every change bumps `version` and, for a published plot, emits `sites.site.updated`. With `If-Match`
    (the `ETag` of a GET) a change to a plot changed since is refused with 412.
    """
    source, target = request_crs(content_crs), response_crs(accept_crs)
    site = await service.update(session, runtime, principal, site_id, body, if_match, source)
    response.headers["ETag"] = etag(site.version)
    declare(response, target)
    return service.to_api(site, crs=target)


@router.delete(
    "/sites/{id}",
    response_model=Site,
    summary="Withdraw a plot",
    responses=problem_responses(401, 403, 404, 409),
)
async def withdraw_site(principal: CurrentPrincipal, site_id: SiteId, session: WriteSession, runtime: Runtime) -> Site:
    """Withdraw the plot from the market (it stays readable with status `withdrawn`).

    Refused (409) while homes are reserved on the plot. Emits `sites.site.withdrawn`.
    """
    return service.to_api(await service.withdraw(session, runtime, principal, site_id))


@router.get(
    "/map/sites.geojson",
    response_model=SiteFeatureCollection,
    tags=["maps"],
    summary="Map of plots",
    responses={**problem_responses(400, 401, 406), 200: {"content": {GEOJSON_MEDIA_TYPE: {}}, **WITH_CRS}},
)
async def sites_map(
    principal: CurrentPrincipal,
    session: Session,
    status: StatusQuery = "published",
    municipality: MunicipalityQuery = None,
    province: ProvinceQuery = None,
    kind: KindQuery = None,
    bbox: BboxQuery = None,
    bbox_crs_value: BboxCrsQuery = None,
    crs: CrsQuery = None,
    accept_crs: AcceptCrsHeader = None,
) -> JSONResponse:
    """Published plots as a GeoJSON FeatureCollection: the boundary polygon when known, else the point.
    Same filters as the plot listing; positions in WGS84 unless `crs` or `Accept-Crs` asks for RD New."""
    q = _site_query(
        principal,
        status=status,
        municipality=municipality,
        province=province,
        kind=kind,
        free_at=None,
        min_free_units=None,
        available_from=None,
        available_until=None,
        near_lat=None,
        near_lon=None,
        within_km=None,
        bbox=bbox,
        sort="createdAt",
        bbox_crs_value=bbox_crs_value,
    )
    target = response_crs(accept_crs, crs)
    sites = await repo.all_matching(session, q, MAP_MAX_FEATURES)
    features = [
        {
            "type": "Feature",
            "id": str(s.id),
            "geometry": transform_geometry(s.boundary or {"type": "Point", "coordinates": [s.lon, s.lat]}, Crs.wgs84, target),
            "properties": {
                "site_id": str(s.id),
                "name": s.name,
                "kind": s.kind,
                "gemeente_code": s.gemeente_code,
                "capacity_units": s.capacity_units,
                "free_units": service.free_units(s),
                "available_from": s.available_from.isoformat(),
                "available_until": s.available_until.isoformat() if s.available_until else None,
                "status": s.status,
            },
        }
        for s in sites
    ]
    answer_ = JSONResponse({"type": "FeatureCollection", "features": features}, media_type=GEOJSON_MEDIA_TYPE)
    declare(answer_, target)
    return answer_
