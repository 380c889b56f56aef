"""The CloudEvents 1.0 JSON envelope every event travels in."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

# CloudEvents NATS protocol binding, structured content mode: the payload is the whole JSON event
# (envelope + data) and the `Content-Type` header says so, which is how a receiver on NATS >= 2.2
# tells structured from binary mode. Structured, not binary: one self-contained document that a
# consumer, the replay and an outside subscriber read alike, and that JetStream stores as is.
STRUCTURED_CONTENT_TYPE = "application/cloudevents+json; charset=utf-8"


def nats_headers(event_id: Any) -> dict[str, str]:
    """The headers every event is published with: the binding's Content-Type and JetStream's de-duplication id."""
    return {"Content-Type": STRUCTURED_CONTENT_TYPE, "Nats-Msg-Id": str(event_id)}


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
