"""The parts of the matching policy the inventory follows (from matching.policy.changed)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base


class FollowedPolicy(Base):
    """One row (id 1): the newest policy version seen and the two values the inventory uses."""

    __tablename__ = "followed_policy"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, default=1)
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    horizon_months: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # expiry signal horizon
    storage_gap_months: Mapped[int] = mapped_column(sa.Integer, nullable=False)  # longest storage between plots
    set_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False)  # when matching set it
