"""The home ledger (woningregister): one row per registered home, in exactly one HomeState."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base
from shared.domain import HomeState

# Where inventory says the home is; a proposal stage (proposed/agreed/reserved) shows through while the
# home is still at its place or in storage (see `state_of`).
PHASES = ("registered", "in_place", "expiring", "in_storage", "fallback", "relocation_scheduled", "moved", "sold", "dismantled")
STAGES = ("proposed", "agreed", "reserved")
# Phases in which a home is still demand: a proposal may cover it.
DEMAND_PHASES = ("in_place", "expiring", "in_storage")


def state_of(phase: str, stage: str | None) -> HomeState:
    return HomeState(stage if stage and phase in DEMAND_PHASES else phase)


class LedgerHome(Base):
    """A home (woning) and where it is in its relocation lifecycle, folded from events only.

    Two facts, each from its own source, make the state: `phase` from inventory.* (placed,
    expiring, stored, fallback, scheduled, moved, sold, dismantled) and `stage` of the proposal
    covering it from matching.* / sites.* (proposed, agreed, reserved). `state` is derived from
    both (stored for one-query counts); `since` is the product date it entered that state.
    Proposals name a number of homes, not which: a proposal takes the first free homes of its
    placement by unit id; the relocation plan later names the real ones (`relocation_scheduled`).
    """

    __tablename__ = "home_ledger"
    unit_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    placement_id: Mapped[uuid.UUID | None] = mapped_column(index=True)  # None while only registered
    complex_id: Mapped[uuid.UUID] = mapped_column(index=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100), index=True)
    gemeente_code: Mapped[str | None] = mapped_column(sa.String(6), index=True)  # None while only registered
    province_code: Mapped[str | None] = mapped_column(sa.String(4), index=True)
    phase: Mapped[str] = mapped_column(sa.String(24))
    stage: Mapped[str | None] = mapped_column(sa.String(12))
    proposal_id: Mapped[uuid.UUID | None] = mapped_column(index=True)
    state: Mapped[str] = mapped_column(sa.String(24), index=True)
    since: Mapped[dt.date]
    reason: Mapped[str | None] = mapped_column(sa.Text)

    __table_args__ = (
        sa.CheckConstraint(f"state IN ({', '.join(repr(s.value) for s in HomeState)})", name="known_state"),
    )
