"""API schemas of national matching runs."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class RunIn(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"mode": "dry_run", "allow_garantiekavel_override": False}]})
    mode: Literal["dry_run", "binding"] = Field(description="dry_run: a plan only; binding: creates proposals.")
    allow_garantiekavel_override: bool = Field(default=False, description="Treat garantiekavels as ordinary plots.")


class ShortfallRow(BaseModel):
    province_code: str
    quarter: str = Field(examples=["2027-Q3"])
    units: int


class ReplacedProposal(BaseModel):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    reason: Literal["different_allocation", "not_housed_in_plan"] = Field(
        description="different_allocation: the plan houses it on other plots or in other numbers; "
        "not_housed_in_plan: the plan gives its homes' places to other demand.")
    current: list[list] = Field(description="The proposal's allocation: [site id, homes] pairs.", examples=[[["1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b", 20]]])
    planned: list[list] = Field(description="The plan's allocation for the placement: [site id, homes] pairs.", examples=[[]])


class DemandCount(BaseModel):
    placements: int
    homes: int


class RunOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "id": "3c0b1e2d-4f5a-4b6c-8d7e-9f0a1b2c3d4e", "mode": "dry_run", "allow_garantiekavel_override": False,
        "created_at": "2026-11-23T10:00:00Z", "wall_time_s": 0.42, "demand_units": 480, "housed_units": 430,
        "shortfall_units": 50, "proposals_created": 0, "policy_version": 2, "cost": {"transport_unit_km": 5120.0, "total": 40480.0},
        "shortfall": [{"province_code": "PV25", "quarter": "2027-Q3", "units": 50}], "solver_stats": {"method": "exact"},
        "plan": [{"placement_id": "0c7f0d7e-3e0f-4f7e-9a1c-9b8f3e2d1c00", "site_id": "1f2e3d4c-5b6a-4798-8a7b-6c5d4e3f2a1b",
                  "units": 48, "rung": "gemeente"}], "replaces": [], "kept_pending": 0,
        "demand_by_status": {"waiting": {"placements": 3, "homes": 50}, "proposed": {"placements": 10, "homes": 430}}}]})

    id: uuid.UUID
    mode: str
    allow_garantiekavel_override: bool
    created_at: dt.datetime
    wall_time_s: float
    demand_units: int
    housed_units: int
    shortfall_units: int
    proposals_created: int
    policy_version: int | None = Field(default=None, description="The matching policy version the run used.")
    cost: dict
    shortfall: list[ShortfallRow]
    solver_stats: dict
    plan: list[dict]
    replaces: list[ReplacedProposal] = Field(
        description="Pending proposals no party accepted yet that the plan allocates differently: a binding run "
        "withdrew them (reason superseded_by_run:<run id>) and proposed the plan; a dry-run only shows them.")
    kept_pending: int = Field(description="Pending proposals the plan confirms as they are (left alone).")
    demand_by_status: dict[str, DemandCount] = Field(
        description="Placements and homes per demand status after the run (waiting, proposed, reserved, ...).")
