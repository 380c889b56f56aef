"""GeoJSON (RFC 7946) shapes of the two maps, as the sites and inventory services serve them."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

GEOJSON = "application/geo+json"


class Geometry(BaseModel):
    """A GeoJSON geometry in WGS84: a Point ([lon, lat]), or a plot's boundary Polygon/MultiPolygon."""

    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(examples=[[5.4697, 51.4416]])


class SiteFeatureProperties(BaseModel):
    site_id: uuid.UUID
    name: str = Field(examples=["Kavel Strijp-Noord"])
    kind: str = Field(examples=["municipal"])
    gemeente_code: str = Field(examples=["GM0772"])
    capacity_units: int = Field(examples=[48])
    free_units: int = Field(examples=[48])
    available_from: dt.date = Field(examples=["2027-06-01"])
    available_until: dt.date | None = Field(examples=["2039-05-31"])
    status: str = Field(examples=["published"])


class SiteFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: Geometry
    properties: SiteFeatureProperties


class SiteFeatureCollection(BaseModel):
    """Plots on a map: a Point per plot, or its boundary Polygon when one was given."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [5.4697, 51.4416]},
                            "properties": {
                                "site_id": "0b9b6a3e-8d0c-4a8e-9f43-0f2b1c7d5e11",
                                "name": "Kavel Strijp-Noord",
                                "kind": "municipal",
                                "gemeente_code": "GM0772",
                                "capacity_units": 48,
                                "free_units": 48,
                                "available_from": "2027-06-01",
                                "available_until": "2039-05-31",
                                "status": "published",
                            },
                        }
                    ],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[SiteFeature]


class PlacementFeatureProperties(BaseModel):
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str = Field(examples=["wc-woonbron"])
    gemeente_code: str = Field(examples=["GM0772"])
    units: int = Field(examples=[24])
    end_date: dt.date = Field(examples=["2028-04-30"])
    status: str = Field(examples=["active"])


class PlacementFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: Geometry
    properties: PlacementFeatureProperties


class PlacementFeatureCollection(BaseModel):
    """Placements on a map (a Point each), scoped by role like the placement list."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [5.4697, 51.4416]},
                            "properties": {
                                "placement_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                                "complex_id": "6f1d3c2a-1b7e-4c55-9d0e-2a4b8c6d0e11",
                                "investor_org": "wc-woonbron",
                                "gemeente_code": "GM0772",
                                "units": 24,
                                "end_date": "2028-04-30",
                                "status": "active",
                            },
                        }
                    ],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[PlacementFeature]
