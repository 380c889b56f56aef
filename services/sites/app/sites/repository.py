"""Queries on plots. Distance filters: a lat/lon bounding box the index can use, then haversine in SQL."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.sites.geo import bbox_around
from services.sites.app.sites.models import Site
from shared.reference import EARTH_RADIUS_KM
from shared.web.pagination import paginate


@dataclass(frozen=True)
class SiteQuery:
    """Filters of the plot listing (all optional, combined with AND)."""

    statuses: tuple[str, ...] = ("published",)
    owner_gemeente: str | None = None  # a municipality's non-published plots: only its own
    see_all_statuses: bool = False  # the marktmeester
    gemeente_code: str | None = None
    province_code: str | None = None
    kind: str | None = None
    free_at: dt.date | None = None
    min_free_units: int | None = None
    window_from: dt.date | None = None
    window_until: dt.date | None = None
    near: tuple[float, float] | None = None
    within_km: float | None = None
    bbox: tuple[float, float, float, float] | None = None  # min_lon, min_lat, max_lon, max_lat
    sort: str = "createdAt"


def distance_km_sql(lat: float, lon: float) -> sa.ColumnElement[float]:
    """Great-circle distance (haversine) from a point to each plot, in SQL."""
    dlat = sa.func.radians(Site.lat - lat)
    dlon = sa.func.radians(Site.lon - lon)
    a = sa.func.power(sa.func.sin(dlat / 2), 2) + sa.func.cos(sa.func.radians(lat)) * sa.func.cos(
        sa.func.radians(Site.lat)
    ) * sa.func.power(sa.func.sin(dlon / 2), 2)
    return 2 * EARTH_RADIUS_KM * sa.func.asin(sa.func.sqrt(sa.func.least(1.0, a)))


STATUSES = ("draft", "published", "withdrawn")


def status_is(*statuses: str) -> sa.ColumnElement[bool]:
    """Status as SQL literals, not bind parameters: the planner can then use the partial
    `WHERE status = 'published'` indexes also in generic (prepared) plans."""
    assert all(s in STATUSES for s in statuses)
    if len(statuses) == 1:
        return Site.status == sa.literal_column(f"'{statuses[0]}'")
    return Site.status.in_([sa.literal_column(f"'{s}'") for s in statuses])


def _conditions(q: SiteQuery) -> list[sa.ColumnElement[bool]]:
    visible = status_is(*q.statuses)
    if not q.see_all_statuses and q.statuses != ("published",):
        # Non-published plots are private to the owning municipality.
        own = Site.gemeente_code == q.owner_gemeente if q.owner_gemeente else sa.false()
        visible = sa.and_(visible, sa.or_(status_is("published"), own))
    conds = [visible]
    if q.gemeente_code:
        conds.append(Site.gemeente_code == q.gemeente_code)
    if q.province_code:
        conds.append(Site.province_code == q.province_code)
    if q.kind:
        conds.append(Site.kind == q.kind)
    if q.free_at is not None:
        conds += [
            Site.available_from <= q.free_at,
            sa.or_(Site.available_until.is_(None), Site.available_until >= q.free_at),
        ]
    if q.min_free_units is not None:
        conds.append(Site.free_units >= q.min_free_units)
    if q.window_from is not None:
        conds.append(sa.or_(Site.available_until.is_(None), Site.available_until >= q.window_from))
    if q.window_until is not None:
        conds.append(Site.available_from <= q.window_until)
    if q.bbox is not None:
        min_lon, min_lat, max_lon, max_lat = q.bbox
        conds += [Site.lat.between(min_lat, max_lat), Site.lon.between(min_lon, max_lon)]
    if q.near is not None and q.within_km is not None:
        lat, lon = q.near
        min_lat, max_lat, min_lon, max_lon = bbox_around(lat, lon, q.within_km)
        conds += [Site.lat.between(min_lat, max_lat), Site.lon.between(min_lon, max_lon)]
        conds.append(distance_km_sql(lat, lon) <= q.within_km)
    return conds


async def search(
    session: AsyncSession, q: SiteQuery, limit: int, cursor: str | None
) -> tuple[list[tuple[Site, float | None]], str | None]:
    distance = distance_km_sql(*q.near).label("distance_km") if q.near is not None else None
    columns: list = [Site, distance if distance is not None else sa.null().label("distance_km")]
    query = sa.select(*columns).where(*_conditions(q))
    if q.sort == "distance" and distance is not None:
        order = [distance, Site.id]
    elif q.sort == "availableFrom":
        order = [Site.available_from, Site.id]
    else:
        order = [Site.created_at, Site.id]
    rows, next_cursor = await paginate(session, query, order, limit, cursor)
    return [(row[0], row[1]) for row in rows], next_cursor


async def all_matching(session: AsyncSession, q: SiteQuery, cap: int) -> Sequence[Site]:
    query = sa.select(Site).where(*_conditions(q)).order_by(Site.created_at, Site.id).limit(cap)
    return (await session.scalars(query)).all()


async def get(session: AsyncSession, site_id: uuid.UUID, *, for_update: bool = False) -> Site | None:
    query = sa.select(Site).where(Site.id == site_id)
    if for_update:
        query = query.with_for_update()
    return await session.scalar(query)


async def lock_many(session: AsyncSession, site_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Site]:
    """Lock the plots' rows in id order (every transaction takes them in the same order: no deadlocks)."""
    if not site_ids:
        return {}
    query = sa.select(Site).where(Site.id.in_(sorted(set(site_ids)))).order_by(Site.id).with_for_update()
    # populate_existing: a row cached in this session before the lock must show the locked values
    sites = (await session.scalars(query.execution_options(populate_existing=True))).all()
    return {s.id: s for s in sites}


def add(session: AsyncSession, site: Site) -> None:
    session.add(site)
