"""API schemas of reservations."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.web.pagination import Page


class ReservationLine(BaseModel):
    site_id: uuid.UUID
    gemeente_code: str = Field(examples=["GM0772"])
    units: int = Field(description="Homes requested on (and, when confirmed, held on) this plot.", examples=[24])


class Reservation(BaseModel):
    """The outcome of an accepted proposal: capacity held (confirmed), refused (rejected) or given back (released)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "6b0c1f8e-3f59-4a59-9b0f-2f1f5d0b6c11",
                    "proposal_id": "0d3c8a57-0a57-44d1-8b6e-7d9a4f1e2c33",
                    "placement_id": "5f7a0e1c-6e2d-4a3b-9c8d-1e2f3a4b5c6d",
                    "complex_id": "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d",
                    "investor_org": "woonstichting-voorbeeld",
                    "status": "confirmed",
                    "reason": None,
                    "move_window_start": "2028-03-01",
                    "created_at": "2026-11-23T10:00:00Z",
                    "released_at": None,
                    "lines": [{"site_id": "2c1b0a9f-8e7d-4c6b-9a5f-4e3d2c1b0a9f", "gemeente_code": "GM0772", "units": 24}],
                }
            ]
        }
    )

    id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    status: Literal["confirmed", "rejected", "released"]
    reason: str | None = Field(description="Why a reservation was rejected: insufficient_capacity or site_unavailable.")
    move_window_start: dt.date
    created_at: dt.datetime
    released_at: dt.datetime | None
    lines: list[ReservationLine]


class ReservationPage(Page[Reservation]):
    """A page of reservations."""
