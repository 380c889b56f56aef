"""The read model (leesmodel) of relocation demand and plot supply, built only from events."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base


class ComplexView(Base):
    """A complex as registered by inventory (specs the hard constraints need)."""

    __tablename__ = "complexes"
    complex_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100))
    spec: Mapped[dict] = mapped_column(JSONB)


class PlacementDemand(Base):
    """A placement; once expiring it is relocation demand (herplaatsingsvraag).

    demand_status: active (not expiring yet) | waiting (no open proposal) | proposed |
    reserved | scheduled | ended.
    """

    __tablename__ = "placements"
    placement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    complex_id: Mapped[uuid.UUID] = mapped_column(index=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100), index=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6))
    province_code: Mapped[str | None] = mapped_column(sa.String(4))
    lat: Mapped[float]
    lon: Mapped[float]
    instrument: Mapped[str] = mapped_column(sa.String(40))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    unit_count: Mapped[int]
    complex_spec: Mapped[dict | None] = mapped_column(JSONB)
    demand_status: Mapped[str] = mapped_column(sa.String(20), index=True, default="active")
    shortfall_units: Mapped[int] = mapped_column(default=0)
    excluded_sites: Mapped[list] = mapped_column(JSONB, default=list)  # plots of municipalities that declined
    declined_allocations: Mapped[list] = mapped_column(JSONB, default=list)  # exact allocations not to repeat


class PlotView(Base):
    """A plot (kavel) from the latest sites snapshot; `version` drops stale snapshots."""

    __tablename__ = "plots"
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    province_code: Mapped[str] = mapped_column(sa.String(4))
    kind: Mapped[str] = mapped_column(sa.String(20))
    capacity_units: Mapped[int]
    reserved_units: Mapped[int] = mapped_column(default=0)
    snapshot: Mapped[dict] = mapped_column(JSONB)
