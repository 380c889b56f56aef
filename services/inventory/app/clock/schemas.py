"""API shapes of the demo clock."""

from __future__ import annotations

import datetime as dt

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from shared.product_clock import EARLIEST_TODAY, LATEST_TODAY

# A product "today" the marketplace can reason about (horizons, terms and storage months stay far from date.max).
ProductDay = Annotated[dt.date, Field(ge=EARLIEST_TODAY, le=LATEST_TODAY)]


class ClockState(BaseModel):
    """The product's "today" (every service follows it) and how far the clock was moved."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"today": "2028-11-23", "offset_days": 731}]})

    today: dt.date
    offset_days: int


class ClockChange(BaseModel):
    """Move the product clock: give `offset_days` (days added to the base date) or the `today` to reach.

    Either way the new today lies between 2000-01-01 and 2100-12-31.
    """

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"offset_days": 730}, {"today": "2031-01-01"}]})

    offset_days: int | None = Field(default=None, ge=-36500, le=36500)
    today: ProductDay | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> "ClockChange":
        if (self.offset_days is None) == (self.today is None):
            raise ValueError("give exactly one of offset_days or today")
        return self
