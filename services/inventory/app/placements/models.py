"""Tables of placements: a complex (or some of its units) on a plot under a permit term."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB, UUID, ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.app.db import Base
from services.inventory.app.placements.lifecycle import Lifecycle


class Placement(Base):
    """A placement (plaatsing) under a permit, from start_date through end_date."""

    __tablename__ = "placements"
    __table_args__ = (
        sa.CheckConstraint("end_date > start_date", name="term_positive"),
        sa.Index("ix_placements_end_date_id", "end_date", "id"),
        sa.Index("ix_placements_complex_id", "complex_id"),
        sa.Index("ix_placements_investor_org", "investor_org"),
        sa.Index("ix_placements_gemeente_code", "gemeente_code"),
        # The scan's work lists: placements whose signal is still due.
        sa.Index("ix_placements_expiring_due", "end_date", postgresql_where=sa.text("expiring_emitted_at IS NULL")),
        sa.Index("ix_placements_ended_due", "end_date", postgresql_where=sa.text("ended_emitted_at IS NULL")),
        # The lifecycle scan's work lists: follow-ups to start, stored homes to fall back.
        sa.Index("ix_placements_lifecycle", "lifecycle"),
        sa.CheckConstraint(f"lifecycle IN ({', '.join(repr(s.value) for s in Lifecycle)})", name="lifecycle_known"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    complex_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("complexes.id"), nullable=False)
    investor_org: Mapped[str] = mapped_column(sa.String(100), nullable=False)  # copied from the complex for scoping
    site_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), nullable=False)
    province_code: Mapped[str] = mapped_column(sa.String(4), nullable=False)
    lat: Mapped[float] = mapped_column(sa.Float, nullable=False)
    lon: Mapped[float] = mapped_column(sa.Float, nullable=False)
    instrument: Mapped[str] = mapped_column(sa.String(30), nullable=False)
    permit_reference: Mapped[str | None] = mapped_column(sa.String(120))
    procedure_weeks: Mapped[int | None] = mapped_column(sa.SmallInteger)
    restore_obligation: Mapped[bool] = mapped_column(sa.Boolean, nullable=False, default=False)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    sequence_no: Mapped[int] = mapped_column(sa.SmallInteger, nullable=False)
    unit_count: Mapped[int] = mapped_column(sa.Integer, nullable=False)
    # Set by the relocation that replaces this placement (herplaatsingsplan), if any.
    relocation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # The relocation that created this (follow-up) placement, if any.
    created_by_relocation_id: Mapped[uuid.UUID | None] = mapped_column(UUID(as_uuid=True))
    # Claims of the expiry scan: set in the same transaction as the outbox row, exactly once.
    expiring_emitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    ended_emitted_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    # The lifecycle (placements/lifecycle.py; every change goes through its transition table).
    lifecycle: Mapped[str] = mapped_column(sa.String(30), nullable=False, default=Lifecycle.active.value, server_default=Lifecycle.active.value)
    # In storage (opslag) since the term ended, until end + the longest storage period; then the RTHF fallback.
    storage_since: Mapped[dt.date | None] = mapped_column(sa.Date)
    storage_until: Mapped[dt.date | None] = mapped_column(sa.Date)
    fallback_claim: Mapped[dict | None] = mapped_column(JSONB)  # FallbackClaim, computed when the fallback applied
    closed_on: Mapped[dt.date | None] = mapped_column(sa.Date)
    close_reason: Mapped[str | None] = mapped_column(sa.String(500))
    # Optimistic concurrency: the ETag; every change through the API bumps it.
    version: Mapped[int] = mapped_column(sa.Integer, nullable=False, default=1, server_default="1")
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())


class PlacementUnit(Base):
    """Which units stand in a placement; the term is copied so overlaps are a constraint."""

    __tablename__ = "placement_units"
    __table_args__ = (
        sa.Index("ix_placement_units_unit_id", "unit_id"),
        # A unit is never in two placements whose terms overlap ([start, end): the end day is the move day).
        ExcludeConstraint(
            (sa.column("unit_id"), "="),
            (sa.func.daterange(sa.column("start_date"), sa.column("end_date"), "[)"), "&&"),
            name="ex_placement_units_no_overlap",
            using="gist",
        ),
    )

    placement_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("placements.id", ondelete="CASCADE"), primary_key=True
    )
    unit_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), sa.ForeignKey("units.id"), primary_key=True)
    start_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    end_date: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
