"""API shapes of the demo clock."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.web.limits import Day


class ClockState(BaseModel):
    """The inventory's "today" and how far the demo clock was moved."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"today": "2028-11-23", "offset_days": 731}]})

    today: dt.date
    offset_days: int


class ClockChange(BaseModel):
    """Move the demo clock: give `offset_days` (days added to the base date) or the `today` to reach."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"offset_days": 730}, {"today": "2031-01-01"}]})

    offset_days: int | None = Field(default=None, ge=-36500, le=36500)
    today: Day | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ClockChange":
        if (self.offset_days is None) == (self.today is None):
            raise ValueError("give exactly one of offset_days or today")
        return self
