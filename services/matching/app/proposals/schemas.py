"""API schemas of proposals."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

ProposalStatus = Literal["pending", "accepted", "reserved", "scheduled", "declined", "expired", "withdrawn"]


class AllocationOut(BaseModel):
    site_id: uuid.UUID
    gemeente_code: str
    units: int
    distance_km: float
    rung: str


class PartyOut(BaseModel):
    role: str
    org: str
    accepted: bool = False


class ProposalOut(BaseModel):
    """A relocation proposal (herplaatsingsvoorstel) for one expiring placement."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "5b0a3c52-1a43-4c1e-9a55-0e8d1f0b9a11", "placement_id": "0c7f0d7e-3e0f-4f7e-9a1c-9b8f3e2d1c00",
        "complex_id": "7d1e2c3b-4a5f-4e6d-8c7b-6a5f4e3d2c1b", "investor_org": "woonstad", "status": "pending",
        "unit_count": 48, "shortfall_units": 0, "rung": "gemeente",
        "allocations": [{"site_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", "gemeente_code": "GM0200", "units": 48,
                         "distance_km": 3.2, "rung": "gemeente"}],
        "cost": {"transport_unit_km": 199.7, "transport": 798.8, "splits": 0, "split": 0.0, "storage_months": 0.0,
                 "storage": 0.0, "readiness": 0.0, "site_factors": 0.0, "ladder": 0.0, "total": 798.8},
        "binding_constraints": ["stacking: 2 plot(s) ruled out"], "alternatives": [],
        "parties": [{"role": "investor", "org": "woonstad", "accepted": False},
                    {"role": "municipality", "org": "GM0200", "accepted": False}],
        "move_window_start": "2027-06-30", "expires_at": "2026-12-23T10:00:00Z", "created_at": "2026-11-23T10:00:00Z",
        "decided_at": None, "reason": None, "run_id": None, "policy_version": 2}]})

    id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    status: ProposalStatus
    unit_count: int
    shortfall_units: int
    rung: str = Field(description="The highest rung of the herplaatsingsladder the allocation climbs to.")
    allocations: list[AllocationOut]
    cost: dict[str, float] = Field(description="Per-term cost in EUR (weights of the matching policy version) and the total.")
    binding_constraints: list[str]
    alternatives: list[dict]
    parties: list[PartyOut]
    move_window_start: dt.date
    expires_at: dt.datetime
    created_at: dt.datetime
    decided_at: dt.datetime | None = None
    reason: str | None = None
    run_id: uuid.UUID | None = None
    policy_version: int | None = Field(default=None, description="The matching policy version the proposal was made under.")


class DeclineIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"reason": "plot reserved for starters"}]})
    reason: str | None = Field(default=None, max_length=2000)
