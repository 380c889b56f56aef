"""API schemas of municipalities."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from shared.web.pagination import Page


class Centroid(BaseModel):
    lat: float = Field(examples=[51.44164])
    lon: float = Field(examples=[5.46972])


class Municipality(BaseModel):
    """A gemeente (CBS 2025 classification)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "GM0772",
                    "name": "Eindhoven",
                    "province_code": "PV30",
                    "province_name": "Noord-Brabant",
                    "centroid": {"lat": 51.44164, "lon": 5.46972},
                }
            ]
        }
    )

    code: str = Field(description="CBS gemeentecode", examples=["GM0772"])
    name: str
    province_code: str = Field(examples=["PV30"])
    province_name: str
    centroid: Centroid


class MunicipalityPage(Page[Municipality]):
    """A page of municipalities."""
