"""The persisted product clock offset, shared by every replica (inventory owns the clock)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base


class ClockOffset(Base):
    """One row (id 1): how many days the marktmeester moved "today", and how often (the version)."""

    __tablename__ = "clock_offset"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(sa.SmallInteger, primary_key=True, default=1)
    offset_days: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=0)
    # +1 per change; sent on ClockSet so followers keep only the newest
    version: Mapped[int] = mapped_column(sa.BigInteger, nullable=False, default=0, server_default="0")
    updated_at: Mapped[dt.datetime] = mapped_column(
        sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now(), onupdate=sa.func.now()
    )
