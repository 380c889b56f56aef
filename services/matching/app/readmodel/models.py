"""The read model (leesmodel) of relocation demand and plot supply, built only from events."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from services.matching.app.db import Base


class ComplexView(Base):
    """A complex as registered by inventory (specs the hard constraints need)."""

    __tablename__ = "complexes"
    complex_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100))
    spec: Mapped[dict] = mapped_column(JSONB)


# What demand_status says (of the placement's *remainder*: its homes not yet committed to a plot):
#   active     not expiring yet (no demand)
#   waiting    demand without a pending proposal (also in storage: `storage_since` set)
#   proposed   a pending proposal covers the remainder
#   reserved / scheduled   every home is committed (accepted, reserved, or planned by inventory)
#   ended      relocated in full: the term ended and nothing is left
#   fallback   RTHF terugvaloptie: offered for sale, no longer matched
#   closed     the investor chose an end state (sold / dismantled)
DEMAND_STATUSES = ("active", "waiting", "proposed", "reserved", "scheduled", "ended", "fallback", "closed")
# Demand the matcher still has to house (national runs, statistics, shortfall): one place for every reader.
OPEN_DEMAND_STATUSES = ("waiting", "proposed")


class PlacementDemand(Base):
    """A placement; once expiring it is relocation demand (herplaatsingsvraag).

    Remainders (restvraag) are counts on the one row per placement, not rows of their own: proposals,
    events and inventory all speak of the placement, so a part is "the homes of this placement not yet
    committed". `committed_units` = homes in accepted/reserved/scheduled proposals (the parts already
    housed); the demand the solver sees is `unit_count - committed_units` (`remaining_units`). A partly
    housed proposal, once accepted, leaves its unhoused homes as waiting demand of the same placement,
    proposed again (as a proposal of their own) when supply appears. `storage_since`: the term ended
    without a relocation of these homes (opslag); they stay demand, the solver counts storage months
    from the end date. See DEMAND_STATUSES for demand_status.
    """

    __tablename__ = "placements"
    placement_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    complex_id: Mapped[uuid.UUID] = mapped_column(index=True)
    investor_org: Mapped[str] = mapped_column(sa.String(100), index=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6))
    province_code: Mapped[str | None] = mapped_column(sa.String(4))
    lat: Mapped[float]
    lon: Mapped[float]
    instrument: Mapped[str] = mapped_column(sa.String(40))
    start_date: Mapped[dt.date]
    end_date: Mapped[dt.date]
    unit_count: Mapped[int]
    complex_spec: Mapped[dict | None] = mapped_column(JSONB)
    demand_status: Mapped[str] = mapped_column(sa.String(20), index=True, default="active")
    shortfall_units: Mapped[int] = mapped_column(default=0)
    excluded_sites: Mapped[list] = mapped_column(JSONB, default=list)  # plots of municipalities that declined
    declined_allocations: Mapped[list] = mapped_column(JSONB, default=list)  # exact allocations not to repeat
    committed_units: Mapped[int] = mapped_column(default=0, server_default="0")
    storage_since: Mapped[dt.date | None]
    # inventory's end of the storage period (PlacementEnded.storage_until): the solver's deadline when known
    storage_until: Mapped[dt.date | None]

    @property
    def remaining_units(self) -> int:
        """Homes still to be housed (the remainder after the parts already committed)."""
        return max(0, self.unit_count - (self.committed_units or 0))


class PlotView(Base):
    """A plot (kavel) from the latest sites snapshot; `version` drops stale snapshots."""

    __tablename__ = "plots"
    site_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    version: Mapped[int]
    status: Mapped[str] = mapped_column(sa.String(20), index=True)
    gemeente_code: Mapped[str] = mapped_column(sa.String(6), index=True)
    province_code: Mapped[str] = mapped_column(sa.String(4))
    kind: Mapped[str] = mapped_column(sa.String(20))
    capacity_units: Mapped[int]
    reserved_units: Mapped[int] = mapped_column(default=0)
    snapshot: Mapped[dict] = mapped_column(JSONB)
