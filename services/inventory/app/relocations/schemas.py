"""API shapes of relocation plans."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class RelocationAllocationOut(BaseModel):
    site_id: uuid.UUID
    gemeente_code: str
    unit_ids: list[uuid.UUID]
    new_placement_id: uuid.UUID


class RelocationOut(BaseModel):
    """A relocation plan (herplaatsingsplan): which homes move where, and the move window."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={
            "examples": [
                {
                    "id": "3f0c2a9e-5b7d-4c1e-8f2a-6d9b0e1c2a3f",
                    "reservation_id": "9a1b2c3d-4e5f-4a6b-8c7d-0e1f2a3b4c5d",
                    "proposal_id": "1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d",
                    "placement_id": "7c3a4f8e-2b1d-4e6f-9a0b-1c2d3e4f5a6b",
                    "complex_id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11",
                    "investor_org": "woonstede",
                    "move_window_start": "2033-05-31",
                    "move_window_end": "2033-07-01",
                    "allocations": [
                        {
                            "site_id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                            "gemeente_code": "GM0228",
                            "unit_ids": ["5d1f0b1e-7c1b-4f0e-8d55-5b1f4d1e0a01"],
                            "new_placement_id": "6f7a8b9c-0d1e-4f2a-9b3c-4d5e6f7a8b9c",
                        }
                    ],
                    "unallocated_unit_ids": [],
                    "status": "scheduled",
                    "created_at": "2031-06-01T09:00:00Z",
                }
            ]
        },
    )

    id: uuid.UUID
    reservation_id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    move_window_start: dt.date = Field(description="The current placement's end date.")
    move_window_end: dt.date = Field(description="The latest start of the follow-up placements (plot availability).")
    allocations: list[RelocationAllocationOut]
    unallocated_unit_ids: list[uuid.UUID] = Field(description="Homes the reserved capacity did not cover.")
    status: str
    created_at: dt.datetime
