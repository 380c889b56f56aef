"""National matching runs of the marktmeester (landelijke matchingsronde)."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base


class MatchingRun(Base):
    __tablename__ = "matching_runs"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    mode: Mapped[str] = mapped_column(sa.String(10))
    allow_garantiekavel_override: Mapped[bool]
    requested_by: Mapped[str] = mapped_column(sa.String(200))
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    wall_time_s: Mapped[float]
    demand_units: Mapped[int]
    housed_units: Mapped[int]
    shortfall_units: Mapped[int]
    proposals_created: Mapped[int]
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)  # the matching policy it ran under
    result: Mapped[dict] = mapped_column(JSONB)  # cost terms, shortfall, solver stats, plan
