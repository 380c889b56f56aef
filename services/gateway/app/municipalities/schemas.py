"""API shape of a municipality."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Municipality(BaseModel):
    """A gemeente from the CBS classification, with its province and centroid (WGS84)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "code": "GM0772",
                    "name": "Eindhoven",
                    "province_code": "PV30",
                    "province_name": "Noord-Brabant",
                    "lat": 51.4416,
                    "lon": 5.4697,
                }
            ]
        }
    )

    code: str = Field(description="CBS gemeentecode (`GM` + 4 digits).", examples=["GM0772"])
    name: str = Field(examples=["Eindhoven"])
    province_code: str = Field(description="CBS province code (`PV` + 2 digits).", examples=["PV30"])
    province_name: str = Field(examples=["Noord-Brabant"])
    lat: float = Field(description="Centroid latitude (WGS84).", examples=[51.4416])
    lon: float = Field(description="Centroid longitude (WGS84).", examples=[5.4697])
