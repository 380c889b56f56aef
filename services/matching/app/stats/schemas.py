"""Schema of the proposal statistics the gateway's dashboard aggregates."""

from pydantic import BaseModel, ConfigDict


class ShortfallCell(BaseModel):
    province_code: str
    quarter: str
    units: int


class ProposalStats(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [{
        "proposals_by_status": {"pending": 3, "accepted": 1, "reserved": 0, "scheduled": 2, "declined": 1, "expired": 0, "withdrawn": 0},
        "open_demand_units": 140, "shortfall_units": 40, "shortfall": [{"province_code": "PV25", "quarter": "2027-Q1", "units": 40}]}]})

    proposals_by_status: dict[str, int]
    open_demand_units: int
    shortfall_units: int
    shortfall: list[ShortfallCell]
