"""Placement schemas and list filters: the inventory service's own models, so the public OpenAPI is typed.

The filters carry the inventory's names (`services/inventory/app/placements/endpoints.py`);
the raw query string is forwarded, a test compares the names with the inventory's OpenAPI.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Annotated

from fastapi import Query

from services.inventory.app.placements.schemas import PlacementCreate, PlacementDetail, PlacementOut, PlacementStatus

Placement = PlacementOut

ExpiringBeforeQuery = Annotated[
    dt.date | None, Query(description="Only placements whose term ends before this date.", examples=["2028-12-31"])
]
ComplexFilter = Annotated[uuid.UUID | None, Query(description="Only placements of this complex.")]
GemeenteFilter = Annotated[str | None, Query(pattern=r"^GM\d{4}$", description="Only placements in this gemeente.", examples=["GM0772"])]
PlacementStatusQuery = Annotated[PlacementStatus | None, Query(description="Only placements in this state (on today's clock).")]
SiteFilter = Annotated[uuid.UUID | None, Query(description="Only placements on this plot.")]

__all__ = [
    "ComplexFilter",
    "ExpiringBeforeQuery",
    "GemeenteFilter",
    "Placement",
    "PlacementCreate",
    "PlacementDetail",
    "PlacementStatusQuery",
    "SiteFilter",
]
