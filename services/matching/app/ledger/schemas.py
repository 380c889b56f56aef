"""API schemas of the home ledger."""

from __future__ import annotations

import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import HomeState

_STATES = {s.value: 0 for s in HomeState}


class ProvinceCounts(BaseModel):
    province_code: str = Field(description="The province (PV code); `unknown` when not known.")
    homes: int
    shortfall: int = Field(description="Homes of the province in a shortfall state (no plot).")
    by_state: dict[HomeState, int]


class LedgerOut(BaseModel):
    """The home ledger (woningregister): every registered home in exactly one lifecycle state."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "registered": 68, "accounted": 68, "shortfall": 20, "in_books": 60, "left_books": 8,
        "by_state": {**_STATES, "in_place": 20, "expiring": 10, "proposed": 20, "in_storage": 10, "sold": 8},
        "by_province": [{"province_code": "PV25", "homes": 68, "shortfall": 20,
                         "by_state": {**_STATES, "in_place": 20, "expiring": 10, "proposed": 20, "in_storage": 10, "sold": 8}}],
    }]})

    registered: int = Field(description="Homes registered (visible to the caller).")
    accounted: int = Field(description="Homes in exactly one known state; equals `registered`.")
    shortfall: int = Field(description="Homes with no plot: expiring without a proposal, in storage, or in fallback.")
    in_books: int = Field(description="Homes not in an end state.")
    left_books: int = Field(description="Homes sold or dismantled (end states).")
    by_state: dict[HomeState, int]
    by_province: list[ProvinceCounts]


class LedgerPlacementOut(BaseModel):
    """One placement's homes per state (a drill-down row of the ledger)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{
        "placement_id": "0c7f0d7e-3e0f-4f7e-9a1c-9b8f3e2d1c00", "complex_id": "7d1e2c3b-4a5f-4e6d-8c7b-6a5f4e3d2c1b",
        "investor_org": "woonstad", "gemeente_code": "GM0200", "province_code": "PV25", "homes": 48,
        "by_state": {**_STATES, "proposed": 30, "expiring": 18}}]})

    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    gemeente_code: str
    province_code: str | None
    homes: int
    by_state: dict[HomeState, int]
