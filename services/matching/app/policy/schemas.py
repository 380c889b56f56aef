"""The matching policy's parameters (each with its bounds, meaning and source) and API shapes.

Sources name sections of the domain brief (DOMAIN.md); "design choice" where the brief gives none.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from services.matching.app.config import MatchingSettings

EXAMPLE = {
    "storage_gap_months": 6, "min_follow_up_years": 10.0, "region_radius_km": 30.0, "horizon_months": 24,
    "proposal_deadline_days": 30, "min_group_before_ladder": True, "road_factor": 1.3, "transport_eur_per_unit_km": 4.0,
    "split_fixed_eur": 35000.0, "storage_eur_per_unit_month": 250.0, "relocation_cost_eur_per_unit": 30000.0,
    "site_prep_share": 0.5, "connection_share": 0.15, "min_group_penalty_eur": 60000.0, "ladder_step_per_unit": 200000.0,
    "garantiekavel_penalty_per_unit": 5000000.0,
}


class PolicyParameters(BaseModel):
    """Every rule parameter and objective weight of the matcher (a PUT gives all of them)."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, json_schema_extra={"examples": [EXAMPLE]})

    # -- rule parameters (hard constraints)
    storage_gap_months: int = Field(
        ge=0, le=36,
        description="Longest storage between the end of a placement and the follow-up plot opening, in months "
        "(hard rule 'time window start'; DOMAIN.md 'Rules the matching must respect' 2: 'placement end plus the allowed storage gap'). "
        "The inventory also uses it as the storage period.",
    )
    min_follow_up_years: float = Field(
        ge=1, le=30,
        description="Minimum follow-up term on the new plot, in years, capped by the plot's permit regime maximum: a plot "
        "under the Wro voorlopige bestemming (5 yr) needs only min(this, 5), a Bor art. 4-11 plot min(this, 10); regimes "
        "without a statutory maximum need the full term (DOMAIN.md §3 permit regimes and terms; typical terms 10-15 yr).",
    )
    region_radius_km: float = Field(
        gt=0, le=300,
        description="Radius of the 'regio' rung of the herplaatsingsladder around the home's current plot, in km "
        "(DOMAIN.md §1 order of steps: region, province, national, compensation; the radius itself is a design choice).",
    )
    horizon_months: int = Field(
        ge=1, le=120,
        description="How many months before its end a placement is signalled as expiring (the inventory's expiry scan) "
        "(design choice; DOMAIN.md §1 marktmeester needs the supply of expiring homes in time).",
    )
    proposal_deadline_days: int = Field(
        ge=1, le=365, description="Days the parties have to accept a proposal before it expires (design choice).",
    )
    min_group_before_ladder: bool = Field(
        description="Keep a complex's minimum group size before climbing the ladder: prefer a higher rung over splitting "
        "below min_group_size (DOMAIN.md soft preferences: 'make fewer splits (respect min_group_size)').",
    )
    # -- objective weights (soft preferences)
    road_factor: float = Field(ge=1, le=3, description="Road distance per straight-line km (design choice).")
    transport_eur_per_unit_km: float = Field(
        ge=0, le=1000, description="Transport cost per home per road km, EUR (DOMAIN.md §4 costs: transport a few hundred to a few thousand EUR).",
    )
    split_fixed_eur: float = Field(
        ge=0, le=10_000_000, description="Fixed cost of every extra plot a complex is spread over, EUR (DOMAIN.md 'soft preferences': make fewer splits).",
    )
    storage_eur_per_unit_month: float = Field(
        ge=0, le=100_000, description="Storage cost per home per month, EUR (DOMAIN.md 'soft preferences': store for fewer months).",
    )
    relocation_cost_eur_per_unit: float = Field(
        ge=0, le=1_000_000, description="Relocation cost per home, EUR (DOMAIN.md §4: about 30% of new-build cost).",
    )
    site_prep_share: float = Field(
        ge=0, le=1, description="Share of the relocation cost for site preparation on a plot that is not bouwrijp (DOMAIN.md §4: about 50%).",
    )
    connection_share: float = Field(
        ge=0, le=1, description="Share of the relocation cost for utility connections on a plot without them (DOMAIN.md §4: about 15%).",
    )
    min_group_penalty_eur: float = Field(
        ge=0, le=10_000_000, description="Penalty per piece of a complex below its minimum group size, EUR (DOMAIN.md 'soft preferences': respect min_group_size).",
    )
    ladder_step_per_unit: float = Field(
        ge=0, le=1_000_000_000,
        description="Priority points per home per rung climbed on the herplaatsingsladder, not EUR (DOMAIN.md §1 order of steps).",
    )
    garantiekavel_penalty_per_unit: float = Field(
        ge=0, le=1_000_000_000_000,
        description="Priority points per home on a garantiekavel: the backstop above every rung (DOMAIN.md hard rule 7, §2).",
    )


# policy parameter -> the optimiser's Weights field, where the names differ
WEIGHT_FIELD = {"storage_gap_months": "max_storage_gap_months"}


def defaults(settings: MatchingSettings) -> PolicyParameters:
    """Version 1: the settings (so environment overrides still seed it)."""
    values = {name: getattr(settings, WEIGHT_FIELD.get(name, name)) for name in PolicyParameters.model_fields if name != "horizon_months"}
    return PolicyParameters(**values, horizon_months=settings.expiry_horizon_months)


class PolicyChange(BaseModel):
    """A new version of the whole policy."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"parameters": EXAMPLE, "note": "10-year follow-up term"}]})

    parameters: PolicyParameters
    note: str | None = Field(default=None, max_length=500, description="Why this version (shown in the history).")


class PolicyOut(BaseModel):
    """One version of the matching policy; the current one is in force for every new proposal."""

    model_config = ConfigDict(json_schema_extra={"examples": [
        {"version": 2, "parameters": EXAMPLE, "set_by": "rvo-mm-1", "set_by_org": "rvo", "set_at": "2026-11-23T10:00:00Z", "note": None}
    ]})

    version: int = Field(description="Grows by one per change; also the ETag.")
    parameters: PolicyParameters
    set_by: str = Field(description="Who set it (the token's subject; 'defaults' for version 1 from the settings).")
    set_by_org: str | None = None
    set_at: dt.datetime
    note: str | None = None
