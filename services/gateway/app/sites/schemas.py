"""Plot schemas and query filters: the sites service's own models, so the public OpenAPI is typed.

The filters are declared here with the same names and bounds as the sites service
(`services/sites/app/sites/endpoints.py`); the gateway forwards the raw query string, so
these declarations document the contract and reject malformed values early (400) without
changing what the service receives. A test compares the names with the service's OpenAPI.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from fastapi import Query

from services.sites.app.sites.schemas import Site, SiteCreate, SiteUpdate
from shared.domain import SiteKind

StatusQuery = Annotated[
    Literal["draft", "published", "withdrawn"] | None,
    Query(
        description="Plots in this state (default `published`); drafts and withdrawn plots only for their municipality "
        "and the marktmeester.",
        examples=["published"],
    ),
]
MunicipalityQuery = Annotated[str | None, Query(pattern=r"^GM\d{4}$", description="CBS gemeentecode.", examples=["GM0772"])]
ProvinceQuery = Annotated[str | None, Query(pattern=r"^PV\d{2}$", description="CBS province code.", examples=["PV30"])]
KindQuery = Annotated[SiteKind | None, Query(description="Plot kind.", examples=["municipal"])]
BboxQuery = Annotated[
    str | None,
    Query(description="Only plots inside minLon,minLat,maxLon,maxLat (WGS84).", examples=["5.3,51.3,5.6,51.6"], max_length=200),
]
FreeAtQuery = Annotated[
    dt.date | None,
    Query(alias="freeAt", description="Plots whose availability window contains this date with free capacity.", examples=["2027-06-01"]),
]
MinFreeUnitsQuery = Annotated[
    int | None,
    Query(alias="minFreeUnits", ge=1, le=10_000, description="At least this many free homes (default 1 with freeAt).", examples=[24]),
]
AvailableFromQuery = Annotated[
    dt.date | None,
    Query(alias="availableFrom", description="The window overlaps [availableFrom, availableUntil].", examples=["2027-01-01"]),
]
AvailableUntilQuery = Annotated[
    dt.date | None, Query(alias="availableUntil", description="End of the period the window must overlap.", examples=["2030-12-31"])
]
NearLatQuery = Annotated[
    float | None,
    Query(alias="nearLat", ge=-90, le=90, description="Latitude (WGS84) to measure `distance_km` from; with nearLon.", examples=[51.44]),
]
NearLonQuery = Annotated[
    float | None, Query(alias="nearLon", ge=-180, le=180, description="Longitude (WGS84); with nearLat.", examples=[5.47])
]
WithinKmQuery = Annotated[
    float | None, Query(alias="withinKm", gt=0, le=2000, description="Only plots within this distance of nearLat/nearLon.", examples=[25])
]
SortQuery = Annotated[
    Literal["createdAt", "availableFrom", "distance"] | None,
    Query(description="Sort order, ascending (default `createdAt`; `distance` needs nearLat/nearLon).", examples=["availableFrom"]),
]

__all__ = [
    "AvailableFromQuery",
    "AvailableUntilQuery",
    "BboxQuery",
    "FreeAtQuery",
    "KindQuery",
    "MinFreeUnitsQuery",
    "MunicipalityQuery",
    "NearLatQuery",
    "NearLonQuery",
    "ProvinceQuery",
    "Site",
    "SiteCreate",
    "SiteUpdate",
    "SortQuery",
    "StatusQuery",
    "WithinKmQuery",
]
