"""The matching policy as data: one row per version, the newest is in force."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base


class PolicyVersion(Base):
    """One version of the rule parameters and objective weights (names as in GET /matching/policy)."""

    __tablename__ = "policy_versions"

    version: Mapped[int] = mapped_column(sa.Integer, primary_key=True, autoincrement=False)
    parameters: Mapped[dict] = mapped_column(JSONB, nullable=False)
    set_by: Mapped[str] = mapped_column(sa.String(200), nullable=False)  # token sub ("defaults" for version 1)
    set_by_org: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    set_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)  # record time (real)
    note: Mapped[str | None] = mapped_column(sa.Text, nullable=True)
