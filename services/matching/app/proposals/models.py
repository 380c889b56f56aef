"""Proposals (voorstellen) and the plots they allocate."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base

OPEN_STATUSES = ("pending", "accepted")  # their units are promised: other proposals may not use them
COMMITTED_STATUSES = ("accepted", "reserved", "scheduled")  # their housed homes are a committed part of the placement
ALL_STATUSES = ("pending", "accepted", "reserved", "scheduled", "declined", "expired", "withdrawn")


class Proposal(Base):
    __tablename__ = "proposals"
    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    placement_id: Mapped[uuid.UUID] = mapped_column(index=True)
    complex_id: Mapped[uuid.UUID]
    investor_org: Mapped[str] = mapped_column(sa.String(100), index=True)
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    unit_count: Mapped[int]
    shortfall_units: Mapped[int] = mapped_column(default=0)
    rung: Mapped[str] = mapped_column(sa.String(20))
    cost: Mapped[dict] = mapped_column(JSONB)
    binding_constraints: Mapped[list] = mapped_column(JSONB, default=list)
    alternatives: Mapped[list] = mapped_column(JSONB, default=list)
    passed_over: Mapped[list] = mapped_column(JSONB, default=list, server_default=sa.text("'[]'::jsonb"))
    parties: Mapped[list] = mapped_column(JSONB)
    acceptances: Mapped[list] = mapped_column(JSONB, default=list)
    move_window_start: Mapped[dt.date]
    expires_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(sa.DateTime(timezone=True))
    decided_at: Mapped[dt.datetime | None] = mapped_column(sa.DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(sa.Text)
    run_id: Mapped[uuid.UUID | None]
    policy_version: Mapped[int | None] = mapped_column(sa.Integer)  # the matching policy it was made under

    __table_args__ = (
        # one pending proposal per placement; accepted parts may stand beside the remainder's proposal
        sa.Index("uq_proposals_pending_placement", "placement_id", unique=True,
                 postgresql_where=sa.text("status = 'pending'")),
    )


class ProposalAllocation(Base):
    __tablename__ = "proposal_allocations"
    proposal_id: Mapped[uuid.UUID] = mapped_column(sa.ForeignKey("proposals.id", ondelete="CASCADE"), primary_key=True)
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True, index=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    units: Mapped[int]
    distance_km: Mapped[float]
    rung: Mapped[str] = mapped_column(sa.String(20))
