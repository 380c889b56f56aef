"""Capacity reservations: one per accepted proposal, with one line per plot."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Mapped, mapped_column

from services.sites.app.db import Base


class Reservation(Base):
    """The outcome of one `matching.proposal.accepted`: confirmed (capacity held), rejected, or released."""

    __tablename__ = "reservations"
    __table_args__ = (
        sa.CheckConstraint("status IN ('confirmed', 'rejected', 'released')", name="status_known"),
        sa.Index("ix_reservations_created_at_id", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True, default=uuid.uuid4)
    # One outcome per proposal, whatever happens to event ids on the way.
    proposal_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False, unique=True)
    placement_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    complex_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), nullable=False)
    investor_org: Mapped[str] = mapped_column(sa.String(200), nullable=False)
    status: Mapped[str] = mapped_column(sa.String(12), nullable=False)
    reason: Mapped[str | None] = mapped_column(sa.String(200), nullable=True)
    move_window_start: Mapped[dt.date] = mapped_column(sa.Date, nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now())
    released_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True), nullable=True)


class ReservationLine(Base):
    """Units of one reservation on one plot (requested units, also kept for rejections)."""

    __tablename__ = "reservation_lines"
    __table_args__ = (
        sa.CheckConstraint("units > 0", name="units_positive"),
        sa.Index("ix_reservation_lines_site_id", "site_id"),
        sa.Index("ix_reservation_lines_gemeente_code", "gemeente_code"),
    )

    reservation_id: Mapped[uuid.UUID] = mapped_column(
        UUID(as_uuid=True), sa.ForeignKey("reservations.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[uuid.UUID] = mapped_column(UUID(as_uuid=True), primary_key=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), nullable=False)
    units: Mapped[int] = mapped_column(sa.Integer, nullable=False)
