"""API shapes of the expiry scan."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ExpiryScanResult(BaseModel):
    """What one scan signalled (each placement is signalled once, ever)."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"today": "2031-06-01", "horizon_date": "2033-06-01", "expiring_emitted": 12, "ended_emitted": 3, "fallback_emitted": 1, "started_emitted": 2, "units_settled": 0}]}
    )

    today: dt.date
    horizon_date: dt.date = Field(description="Placements ending on or before this date are expiring (today + horizon).")
    expiring_emitted: int = Field(description="inventory.placement.expiring events written by this scan.")
    ended_emitted: int = Field(description="inventory.placement.ended events written by this scan.")
    fallback_emitted: int = Field(
        default=0, description="inventory.placement.fallback events written by this scan (storage period passed without a plot)."
    )
    started_emitted: int = Field(default=0, description="inventory.placement.started events written by this scan (follow-ups begun).")
    units_settled: int = Field(description="Units whose status became in_use because a (follow-up) placement started.")
