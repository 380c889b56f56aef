"""The plot (kavel) table."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.sites.app.db import Base


class Site(Base):
    """A plot (kavel) a municipality offers for relocated homes; a garantiekavel is a cluster of single-home spots."""

    __tablename__ = "sites"
    __table_args__ = (
        sa.CheckConstraint("capacity_units > 0", name="capacity_positive"),
        # The last line of defence against overbooking: no code path can commit more than the capacity.
        sa.CheckConstraint(
            "reserved_units >= 0 AND promised_units >= 0 AND reserved_units + promised_units <= capacity_units",
            name="reserved_within_capacity",
        ),
        sa.CheckConstraint("max_layers BETWEEN 1 AND 6", name="max_layers_range"),
        sa.CheckConstraint("available_until IS NULL OR available_until >= available_from", name="window_order"),
        sa.CheckConstraint("status IN ('draft', 'published', 'withdrawn')", name="status_known"),
        # free-capacity-at-date queries: only published plots are ever searched that way
        sa.Index(
            "ix_sites_published_window",
            "available_from",
            "available_until",
            "free_units",
            postgresql_where=sa.text("status = 'published'"),
        ),
        # distance / bbox queries: a bounding-box prefilter on lat/lon, then haversine
        sa.Index("ix_sites_published_lat_lon", "lat", "lon", postgresql_where=sa.text("status = 'published'")),
        sa.Index("ix_sites_gemeente_code", "gemeente_code"),
        sa.Index("ix_sites_province_code", "province_code"),
        sa.Index("ix_sites_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), nullable=False)
    province_code: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    name: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    kind: Mapped[str] = mapped_column(sa.String(20), nullable=False)

    lat: Mapped[float] = mapped_column(sa.Double, nullable=False)
    lon: Mapped[float] = mapped_column(sa.Double, nullable=False)
    rd_x: Mapped[float] = mapped_column(sa.Double, nullable=False)
    rd_y: Mapped[float] = mapped_column(sa.Double, nullable=False)
    boundary: Mapped[dict[str, Any] | None] = mapped_column(JSONB, nullable=True)  # GeoJSON (Multi)Polygon, WGS84
    area_ha: Mapped[float | None] = mapped_column(sa.Double, nullable=True)

    capacity_units: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    reserved_units: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    # homes the municipality promised outside the market (existing agreements): never free
    promised_units: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0, server_default="0")
    free_units: Mapped[int] = mapped_column(
        sa.Integer, sa.Computed("capacity_units - reserved_units - promised_units", persisted=True)
    )

    available_from: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    available_until: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    expected_instrument: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    min_term_years: Mapped[float] = mapped_column(sa.Double, nullable=False, default=0)
    max_layers: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    allows_tijdelijk_bbl: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    allows_permanent: Mapped[bool] = mapped_column(sa.Boolean, nullable=False)
    doelgroep_restrictions: Mapped[list[str]] = mapped_column(ARRAY(sa.String(30)), nullable=False, default=list)
    social_rent_only: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    allows_social_rent: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=True, server_default=sa.true())

    bouwrijp: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    utility_water: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    utility_electricity: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    utility_sewer: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    utility_heat: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    exclusions: Mapped[list[str]] = mapped_column(ARRAY(sa.String(30)), nullable=False, default=list)  # hard
    site_factors: Mapped[list[str]] = mapped_column(ARRAY(sa.String(30)), nullable=False, default=list, server_default="{}")  # soft
    dist_ov_m: Mapped[float | None] = mapped_column(sa.Double, nullable=True)
    dist_shops_m: Mapped[float | None] = mapped_column(sa.Double, nullable=True)

    # garantiekavel only
    cluster_id: Mapped[str | None] = mapped_column(sa.String(100), nullable=True)
    vaste_kern_units: Mapped[int | None] = mapped_column(sa.Integer, nullable=True)
    reserved_until: Mapped[dt.date | None] = mapped_column(sa.Date, nullable=True)
    location_may_shift: Mapped[bool | None] = mapped_column(sa.Boolean, nullable=True)

    created_by: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    updated_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    published_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)
