"""GeoJSON (RFC 7946) plumbing shared by the map endpoints."""

from __future__ import annotations

from typing import Any, Literal

from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

GEOJSON_MEDIA_TYPE = "application/geo+json"


class GeoJSONResponse(JSONResponse):
    media_type = GEOJSON_MEDIA_TYPE


class Geometry(BaseModel):
    """A GeoJSON geometry in WGS84: a Point ([lon, lat]), or a plot's boundary Polygon/MultiPolygon."""

    type: Literal["Point", "Polygon", "MultiPolygon"]
    coordinates: list[Any] = Field(examples=[[5.4697, 51.4416]])
