"""API shapes of placements."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from typing import Annotated

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from services.inventory.app.placements.lifecycle import Lifecycle
from shared.domain import EndState, PermitInstrument
from shared.web.limits import Day
from shared.web.rules import CrossFieldRule, documented, with_changes

PLACEMENT_EXAMPLE = {
    "complex_id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11",
    "site_id": None,
    "gemeente_code": "GM0228",
    "lat": 52.04,
    "lon": 5.67,
    "instrument": "wabo_bor4_11",
    "permit_reference": "OLO-4711",
    "start_date": "2023-06-01",
    "end_date": "2033-05-31",
}


class PlacementStatus(str, enum.Enum):
    """Derived from the inventory's today: scheduled (not started), active, expiring (signal sent), ended (past its
    end date, or closed by an end state). The lifecycle (`lifecycle`) says what became of the homes."""

    scheduled = "scheduled"
    active = "active"
    expiring = "expiring"
    ended = "ended"


# The filters the placement list shares with the placements map.
StatusQuery = Annotated[PlacementStatus | None, Query(description="Only placements in this state (on today's clock).")]
ExpiringBeforeQuery = Annotated[
    Day | None,
    Query(alias="expiringBefore", description="Only placements whose term ends before this date.", examples=["2028-12-31"]),
]
ComplexQuery = Annotated[uuid.UUID | None, Query(alias="complex", description="Only placements of this complex.")]

# Every rule that spans fields; the field-level ranges are in the schema itself.
PLACEMENT_RULES = [
    CrossFieldRule(
        "gemeente_known", "gemeente_code is one of the 342 CBS gemeentecodes.", "gemeente_code",
        with_changes(PLACEMENT_EXAMPLE, gemeente_code="GM9999"),
    ),
    CrossFieldRule(
        "point_in_netherlands", "lat/lon lie in the Netherlands (50.75-53.7 N, 3.2-7.22 E); the problem names both.", "lat",
        with_changes(PLACEMENT_EXAMPLE, lat=48.8566, lon=2.3522), reads=("lon",),
    ),
    CrossFieldRule(
        "end_after_start", "end_date is after start_date.", "end_date",
        with_changes(PLACEMENT_EXAMPLE, end_date="2023-05-31"), reads=("start_date",),
    ),
    CrossFieldRule(
        "end_within_instrument_term", "The term fits the instrument's statutory maximum (wro_voorlopig 5, wabo_bor4_11 10 "
        "years from start_date).", "end_date", with_changes(PLACEMENT_EXAMPLE, end_date="2034-06-01"),
        reads=("instrument", "start_date"),
    ),
    CrossFieldRule(
        "unit_ids_unique", "unit_ids lists each unit once.", "unit_ids",
        with_changes(PLACEMENT_EXAMPLE, unit_ids=["5d1f0b1e-7c1b-4f0e-8d55-5b1f4d1e0a01"] * 2),
    ),
    CrossFieldRule(
        "unit_ids_of_the_complex", "unit_ids are units of complex_id.", "unit_ids",
        with_changes(PLACEMENT_EXAMPLE, unit_ids=["5d1f0b1e-7c1b-4f0e-8d55-5b1f4d1e0a01"]), reads=("complex_id",),
    ),
]


class PlacementCreate(BaseModel):
    """Place a complex (or some of its units) on a plot under a permit term."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=documented(PLACEMENT_RULES, [PLACEMENT_EXAMPLE]))

    complex_id: uuid.UUID
    unit_ids: list[uuid.UUID] | None = Field(default=None, min_length=1, max_length=500, description="A subset of the complex's units; default all.")
    site_id: uuid.UUID | None = Field(default=None, description="The plot in the sites service, if it is in the marketplace.")
    gemeente_code: str = Field(pattern=r"^GM\d{4}$")
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    instrument: PermitInstrument
    permit_reference: str | None = Field(default=None, max_length=120)
    # enum in the schema; checked with the other rules in the service, so a 400 names every offending field
    procedure_weeks: int | None = Field(
        default=None, description="8 (regulier) or 26 (uitgebreid).", json_schema_extra={"enum": [8, 26, None]}
    )
    restore_obligation: bool = False
    start_date: Day
    end_date: Day


class FallbackClaimOut(BaseModel):
    """RTHF terugvaloptie: the homes' sale value against the guaranteed amount, the gap split 60/25/15."""

    valuation_eur: float = Field(description="Expected sale value of the homes (book value per home x homes).")
    guaranteed_eur: float = Field(description="RTHF garantiebedrag x homes (0 without an RTHF guarantee).")
    gap_eur: float = Field(description="max(0, guaranteed - valuation).")
    rijk_eur: float = Field(description="60% of the gap (Rijk).")
    gemeente_eur: float = Field(description="25% of the gap (the placement's gemeente).")
    investor_eur: float = Field(description="15% of the gap (the investor).")


class PlacementOut(BaseModel):
    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    **PLACEMENT_EXAMPLE,
                    "id": "7c3a4f8e-2b1d-4e6f-9a0b-1c2d3e4f5a6b",
                    "investor_org": "woonstede",
                    "province_code": "PV25",
                    "unit_count": 48,
                    "sequence_no": 1,
                    "status": "active",
                    "procedure_weeks": 8,
                    "restore_obligation": False,
                    "relocation_id": None,
                    "created_by_relocation_id": None,
                    "expiring_emitted_at": None,
                    "ended_emitted_at": None,
                    "lifecycle": "active",
                    "storage_since": None,
                    "storage_until": None,
                    "fallback_claim": None,
                    "closed_on": None,
                    "close_reason": None,
                    "version": 1,
                    "created_at": "2026-11-23T10:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    site_id: uuid.UUID | None
    gemeente_code: str
    province_code: str
    lat: float
    lon: float
    instrument: PermitInstrument
    permit_reference: str | None
    procedure_weeks: int | None
    restore_obligation: bool
    start_date: dt.date
    end_date: dt.date
    sequence_no: int = Field(description="1st, 2nd, 3rd location of these homes.")
    unit_count: int
    status: PlacementStatus
    relocation_id: uuid.UUID | None = Field(description="The relocation plan that moves these homes on, once scheduled.")
    created_by_relocation_id: uuid.UUID | None = Field(description="Set when this is a follow-up placement of a relocation plan.")
    expiring_emitted_at: dt.datetime | None
    ended_emitted_at: dt.datetime | None
    lifecycle: Lifecycle = Field(
        description="Where the placement's homes are in their life (docs/lifecycle.md): scheduled (a follow-up not yet begun), "
        "active (in place), expiring, relocation_scheduled, relocated, in_storage (the term ended without a plot; still demand), "
        "fallback (the storage period passed: RTHF, offered for sale), closed_sold, closed_dismantled."
    )
    storage_since: dt.date | None = Field(description="In storage (opslag) since this date (the term's end), if it ended without a plot.")
    storage_until: dt.date | None = Field(description="The longest storage period ends on this date; after it the RTHF fallback applies.")
    fallback_claim: FallbackClaimOut | None = Field(description="The RTHF claim computed when the fallback applied.")
    closed_on: dt.date | None = Field(description="When the investor chose an end state (sold or dismantled).")
    close_reason: str | None
    version: int = Field(description="Bumped by every change through the API; the `ETag` of GET /placements/{id}.")
    created_at: dt.datetime


class PlacementDetail(PlacementOut):
    unit_ids: list[uuid.UUID]


class PlacementUpdate(BaseModel):
    """Change a placement: a new end date (stay by extension, within the instrument's maximum term) or the permit reference."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"end_date": "2035-05-31", "permit_reference": "OLO-5120"}]})

    end_date: Day | None = Field(default=None, description="The new last day of the term; at most the instrument's maximum from start_date.")
    permit_reference: str | None = Field(default=None, max_length=120)


class EndStateChange(BaseModel):
    """The investor's end state for the placement's homes: they leave the books (with inventory.placement.closed)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"end_state": "sold", "reason": "Sold to gemeente Ede"}]})

    end_state: EndState
    reason: str | None = Field(default=None, max_length=500)
