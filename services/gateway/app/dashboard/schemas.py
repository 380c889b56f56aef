"""Shapes of the dashboards, and of the services' statistics they are built from (stats contract)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

QUARTER_PATTERN = r"^\d{4}-Q[1-4]$"


# -- what the services answer (extra fields are allowed: their shapes may grow)


class _Upstream(BaseModel):
    model_config = ConfigDict(extra="allow")


class HomesEndingInQuarter(_Upstream):
    quarter: str = Field(pattern=QUARTER_PATTERN)
    province_code: str
    homes: int = Field(ge=0)


class PlacementStats(_Upstream):
    """inventory `GET /api/v1/stats/placements`."""

    today: dt.date
    homes_placed: int
    ending_within_12_months: int
    ending_within_24_months: int
    ending_by_quarter: list[HomesEndingInQuarter]


class CapacityInQuarter(_Upstream):
    quarter: str = Field(pattern=QUARTER_PATTERN)
    province_code: str
    available_homes: int = Field(ge=0)


class CapacityStats(_Upstream):
    """sites `GET /api/v1/stats/capacity`."""

    plots_published: int
    capacity_units: int
    reserved_units: int
    free_units: int
    capacity_by_quarter: list[CapacityInQuarter]


class ShortfallInQuarter(_Upstream):
    province_code: str
    quarter: str = Field(pattern=QUARTER_PATTERN)
    units: int = Field(ge=0)


class ProposalsByStatus(BaseModel):
    pending: int = 0
    accepted: int = 0
    reserved: int = 0
    scheduled: int = 0
    declined: int = 0
    expired: int = 0
    withdrawn: int = 0


class ProposalStats(_Upstream):
    """matching `GET /api/v1/stats/proposals`."""

    proposals_by_status: ProposalsByStatus
    open_demand_units: int
    shortfall_units: int
    shortfall: list[ShortfallInQuarter]


# -- what the gateway answers


class HomesSummary(BaseModel):
    placed: int = Field(description="Homes in active placements.", examples=[5120])
    ending_within_12_months: int = Field(examples=[380])
    ending_within_24_months: int = Field(examples=[910])


class PlotsSummary(BaseModel):
    published: int = Field(description="Published plots.", examples=[64])
    capacity_units: int = Field(examples=[2400])
    reserved_units: int = Field(examples=[300])
    free_units: int = Field(examples=[2100])


class ProposalsSummary(BaseModel):
    by_status: ProposalsByStatus
    open_demand_units: int = Field(description="Units of expiring placements without an accepted proposal.", examples=[610])
    shortfall_units: int = Field(description="Units for which the solver found no feasible plot.", examples=[48])


class DashboardSummary(BaseModel):
    """National figures for the marktmeester."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "today": "2026-11-23",
                    "homes": {"placed": 5120, "ending_within_12_months": 380, "ending_within_24_months": 910},
                    "plots": {"published": 64, "capacity_units": 2400, "reserved_units": 300, "free_units": 2100},
                    "proposals": {
                        "by_status": {
                            "pending": 7,
                            "accepted": 2,
                            "reserved": 1,
                            "scheduled": 12,
                            "declined": 3,
                            "expired": 0,
                            "withdrawn": 1,
                        },
                        "open_demand_units": 610,
                        "shortfall_units": 48,
                    },
                    "capacity_gap_24_months": 0,
                }
            ]
        }
    )

    today: dt.date = Field(description="The date the system treats as today (inventory's clock).")
    homes: HomesSummary
    plots: PlotsSummary
    proposals: ProposalsSummary
    capacity_gap_24_months: int = Field(
        description="max(0, homes whose term ends within 24 months - free plot capacity).", examples=[0]
    )


class ForecastCell(BaseModel):
    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2027-Q1"])
    province_code: str = Field(examples=["PV30"])
    province_name: str = Field(examples=["Noord-Brabant"])
    homes_ending: int = Field(description="Homes whose term ends in the quarter.", examples=[120])
    capacity_available: int = Field(description="Free plot capacity whose availability opens in the quarter.", examples=[96])
    gap: int = Field(description="max(0, homes_ending - capacity_available).", examples=[24])
    shortfall_units: int = Field(description="Units the solver could not place (matching).", examples=[0])


class ForecastTotal(BaseModel):
    quarter: str = Field(pattern=QUARTER_PATTERN, examples=["2027-Q1"])
    homes_ending: int = Field(examples=[410])
    capacity_available: int = Field(examples=[380])
    gap: int = Field(description="max(0, homes_ending - capacity_available), nationally.", examples=[30])
    cumulative_homes_ending: int = Field(description="Homes ending from now up to and including the quarter.", examples=[410])
    cumulative_capacity_available: int = Field(description="Capacity opened from now up to and including the quarter.", examples=[380])
    cumulative_gap: int = Field(
        description="max(0, cumulative homes - cumulative capacity): capacity opened earlier can still be used.", examples=[30]
    )
    shortfall_units: int = Field(examples=[0])


class DashboardForecast(BaseModel):
    """Homes whose term ends vs. plot capacity, per quarter and province, for the next 10 years (40 quarters)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "today": "2026-11-23",
                    "quarters": ["2026-Q4"],
                    "cells": [
                        {
                            "quarter": "2026-Q4",
                            "province_code": "PV30",
                            "province_name": "Noord-Brabant",
                            "homes_ending": 120,
                            "capacity_available": 96,
                            "gap": 24,
                            "shortfall_units": 0,
                        }
                    ],
                    "totals": [
                        {
                            "quarter": "2026-Q4",
                            "homes_ending": 120,
                            "capacity_available": 96,
                            "gap": 24,
                            "cumulative_homes_ending": 120,
                            "cumulative_capacity_available": 96,
                            "cumulative_gap": 24,
                            "shortfall_units": 0,
                        }
                    ],
                }
            ]
        }
    )

    today: dt.date
    quarters: list[str] = Field(description="The 40 quarters covered, from the current one.")
    cells: list[ForecastCell] = Field(description="Every quarter x province, ordered by quarter then province code.")
    totals: list[ForecastTotal] = Field(description="National totals per quarter.")
