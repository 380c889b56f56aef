"""API shapes of the cross-service statistics and the placements map."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class QuarterProvinceHomes(BaseModel):
    quarter: str = Field(pattern=r"^\d{4}-Q[1-4]$", examples=["2027-Q1"])
    province_code: str = Field(examples=["PV25"])
    homes: int


class PlacementStats(BaseModel):
    """Homes in active placements and when their terms end (for the marktmeester's forecast)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "today": "2026-11-23",
                    "homes_placed": 4800,
                    "ending_within_12_months": 96,
                    "ending_within_24_months": 480,
                    "ending_by_quarter": [{"quarter": "2027-Q1", "province_code": "PV25", "homes": 48}],
                }
            ]
        }
    )

    today: dt.date
    homes_placed: int = Field(description="Homes in placements whose term covers today.")
    ending_within_12_months: int
    ending_within_24_months: int
    ending_by_quarter: list[QuarterProvinceHomes] = Field(
        description="Homes in active placements by the quarter their end date falls in (next 40 quarters) and province."
    )


class PointGeometry(BaseModel):
    type: Literal["Point"] = "Point"
    coordinates: list[float] = Field(description="[lon, lat] (WGS84).", min_length=2, max_length=2)


class PlacementFeatureProperties(BaseModel):
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    gemeente_code: str
    units: int
    end_date: dt.date
    status: str


class PlacementFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: PointGeometry
    properties: PlacementFeatureProperties


class PlacementFeatureCollection(BaseModel):
    """GeoJSON (RFC 7946) FeatureCollection of placements."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [5.67, 52.04]},
                            "properties": {
                                "placement_id": "7c3a4f8e-2b1d-4e6f-9a0b-1c2d3e4f5a6b",
                                "complex_id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11",
                                "investor_org": "woonstede",
                                "gemeente_code": "GM0228",
                                "units": 48,
                                "end_date": "2033-05-31",
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
