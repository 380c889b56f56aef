"""API schemas of the capacity statistics."""

from __future__ import annotations

from pydantic import BaseModel, Field


class QuarterCapacity(BaseModel):
    quarter: str = Field(examples=["2027-Q1"])
    province_code: str = Field(examples=["PV25"])
    available_homes: int = Field(description="Free capacity of published plots opening in this quarter.")


class CapacityStats(BaseModel):
    """Plot supply for the marktmeester's forecast (gateway: /dashboard/forecast)."""

    plots_published: int
    capacity_units: int
    reserved_units: int
    promised_units: int = Field(default=0, description="Homes municipalities promised outside the market.")
    free_units: int = Field(description="capacity_units - reserved_units - promised_units.")
    capacity_by_quarter: list[QuarterCapacity] = Field(
        description="Plots already open count in the current quarter; the next 40 quarters; plots whose window has ended are left out."
    )
