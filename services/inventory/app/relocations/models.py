"""The relocation plans (herplaatsingsplannen) recorded after sites reserved capacity."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base


class Relocation(Base):
    """Which units of a placement move to which plots, and when (the move window)."""

    __tablename__ = "relocations"
    __table_args__ = (sa.Index("ix_relocations_investor_org", "investor_org"),)

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    # One plan per reservation: a re-delivered or replayed confirmation finds it and stops.
    reservation_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    proposal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    placement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("placements.id"), nullable=False)
    complex_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("complexes.id"), nullable=False)
    investor_org: Mapped[str] = mapped_column(sa.String(100), nullable=False)
    gemeente_codes: Mapped[list[str]] = mapped_column(ARRAY(sa.String(6)), nullable=False)  # old and new plots
    move_window_start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    move_window_end: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    allocations: Mapped[list[dict]] = mapped_column(JSONB, nullable=False)  # [RelocatedAllocation]
    unallocated_unit_ids: Mapped[list[str]] = mapped_column(JSONB, nullable=False, default=list)
    status: Mapped[str] = mapped_column(sa.String(20), nullable=False, default="scheduled")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
