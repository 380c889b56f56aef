"""The CloudEvents 1.0 JSON envelope every event travels in."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CloudEvent(BaseModel):
    """CloudEvents 1.0 structured-mode JSON, plus the `correlationid` extension."""

    model_config = ConfigDict(extra="allow")

    specversion: str = "1.0"
    id: uuid.UUID = Field(default_factory=uuid.uuid4)
    source: str = Field(description="The producing service, e.g. `/herplaatsing/inventory`.")
    type: str = Field(description="The event type; equal to the NATS subject without environment prefix.")
    time: dt.datetime = Field(default_factory=lambda: dt.datetime.now(dt.timezone.utc))
    subject: str = Field(description="The aggregate id the event is about.")
    datacontenttype: str = "application/json"
    correlationid: str | None = None
    data: dict[str, Any]
