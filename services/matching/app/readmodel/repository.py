"""Queries over the read model."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals.models import OPEN_STATUSES, Proposal, ProposalAllocation
from services.matching.app.readmodel.models import OPEN_DEMAND_STATUSES, ComplexView, PlacementDemand, PlotView

WAITING_DEMAND = ("waiting",)  # demand without an open proposal: what the matcher proposes for
OPEN_DEMAND = OPEN_DEMAND_STATUSES
READ_MODEL_TABLES = ("complexes", "placements", "plots", "home_ledger")
REMAINING = PlacementDemand.unit_count - PlacementDemand.committed_units


async def promised_units_by_site(session: AsyncSession, besides: list[uuid.UUID] | None = None) -> dict[uuid.UUID, int]:
    """Units promised to open (pending/accepted) proposals, per plot: not free for others.

    `besides`: proposals whose promise is left out (a national run may supersede them)."""
    q = (
        sa.select(ProposalAllocation.site_id, sa.func.sum(ProposalAllocation.units))
        .join(Proposal, Proposal.id == ProposalAllocation.proposal_id)
        .where(Proposal.status.in_(OPEN_STATUSES))
    )
    if besides:
        q = q.where(Proposal.id.not_in(besides))
    rows = await session.execute(q.group_by(ProposalAllocation.site_id))
    return {site_id: int(units) for site_id, units in rows.all()}


async def published_plots(session: AsyncSession) -> list[PlotView]:
    return list((await session.scalars(sa.select(PlotView).where(PlotView.status == "published").order_by(PlotView.site_id))).all())


async def waiting_demand(
    session: AsyncSession, placement_ids: list[uuid.UUID] | None = None, *, also: list[uuid.UUID] | None = None,
    lock: bool = True,
) -> list[PlacementDemand]:
    """Waiting demand with a remainder left (of the given placements), and the placements in `also` whatever
    their status; locked for update unless `lock` is False (the matcher reads without locks, then re-checks)."""
    waiting = sa.and_(PlacementDemand.demand_status.in_(WAITING_DEMAND), REMAINING > 0)
    q = sa.select(PlacementDemand).where(sa.or_(waiting, PlacementDemand.placement_id.in_(also)) if also else waiting)
    if placement_ids is not None:
        q = q.where(PlacementDemand.placement_id.in_(placement_ids))
    q = q.order_by(PlacementDemand.end_date, PlacementDemand.placement_id)
    return list((await session.scalars(q.with_for_update() if lock else q)).all())


async def waiting_ids(session: AsyncSession) -> list[uuid.UUID]:
    q = sa.select(PlacementDemand.placement_id).where(PlacementDemand.demand_status.in_(WAITING_DEMAND), REMAINING > 0)
    return list((await session.scalars(q.order_by(PlacementDemand.end_date, PlacementDemand.placement_id))).all())


async def demand_for_update_many(session: AsyncSession, placement_ids: list[uuid.UUID]) -> dict[uuid.UUID, PlacementDemand]:
    if not placement_ids:
        return {}
    q = sa.select(PlacementDemand).where(PlacementDemand.placement_id.in_(placement_ids)).order_by(PlacementDemand.placement_id)
    return {r.placement_id: r for r in (await session.scalars(q.with_for_update())).all()}


async def free_units_by_site(session: AsyncSession, site_ids: list[uuid.UUID]) -> dict[uuid.UUID, tuple[int, int]]:
    """Published plots among these: site -> (version, units free now: capacity - reserved - promised to the
    municipality's own parties - promised to open proposals)."""
    if not site_ids:
        return {}
    promised = await promised_units_by_site(session)
    rows = await session.execute(
        sa.select(PlotView.site_id, PlotView.version, PlotView.capacity_units, PlotView.reserved_units, PlotView.snapshot)
        .where(PlotView.site_id.in_(site_ids), PlotView.status == "published")
    )
    # the municipality's own promised homes (promised_units) are never free either
    return {
        r.site_id: (r.version, r.capacity_units - r.reserved_units - int((r.snapshot or {}).get("promised_units") or 0)
                    - promised.get(r.site_id, 0))
        for r in rows.all()
    }


async def upsert_complex(session: AsyncSession, complex_id: uuid.UUID, investor_org: str, spec: dict) -> None:
    await session.execute(
        pg_insert(ComplexView)
        .values(complex_id=complex_id, investor_org=investor_org, spec=spec)
        .on_conflict_do_update(index_elements=["complex_id"], set_={"spec": spec, "investor_org": investor_org})
    )


async def insert_demand_if_new(session: AsyncSession, placement_id: uuid.UUID, **values: Any) -> None:
    await session.execute(pg_insert(PlacementDemand).values(placement_id=placement_id, **values).on_conflict_do_nothing())


async def insert_demands(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """New placements, in one statement (an executemany of one cached INSERT)."""
    if rows:
        await session.execute(sa.insert(PlacementDemand.__table__), rows)


async def demand_for_update(session: AsyncSession, placement_id: uuid.UUID) -> PlacementDemand | None:
    return await session.get(PlacementDemand, placement_id, with_for_update=True)


async def complex_spec(session: AsyncSession, complex_id: uuid.UUID) -> dict | None:
    row = await session.get(ComplexView, complex_id)
    return row.spec if row is not None else None


async def plot_for_update(session: AsyncSession, site_id: uuid.UUID) -> PlotView | None:
    return await session.get(PlotView, site_id, with_for_update=True)


async def upsert_plot_if_newer(session: AsyncSession, site_id: uuid.UUID, version: int, values: dict[str, Any]) -> bool:
    """Upsert unless a newer version is held already; True when applied."""
    result = await session.execute(
        pg_insert(PlotView)
        .values(site_id=site_id, **values)
        .on_conflict_do_update(index_elements=["site_id"], set_=values, where=PlotView.version < version)
        .returning(PlotView.site_id)
    )
    return result.first() is not None


async def withdraw_plot_unless_newer(session: AsyncSession, site_id: uuid.UUID, version: int) -> bool:
    result = await session.execute(
        sa.update(PlotView)
        .where(PlotView.site_id == site_id, PlotView.version <= version)
        .values(status="withdrawn", version=version)
        .returning(PlotView.site_id)
    )
    return result.first() is not None


async def set_reserved(session: AsyncSession, site_id: uuid.UUID, reserved_units: int) -> None:
    await session.execute(sa.update(PlotView).where(PlotView.site_id == site_id).values(reserved_units=reserved_units))


async def open_demand_units(session: AsyncSession) -> int:
    """Homes waiting or in a pending proposal (the remainders; committed parts are housed)."""
    q = sa.select(sa.func.coalesce(sa.func.sum(REMAINING), 0)).where(PlacementDemand.demand_status.in_(OPEN_DEMAND))
    return int(await session.scalar(q) or 0)


async def demand_by_status(session: AsyncSession) -> dict[str, dict[str, int]]:
    """Placements and homes per demand status (all known placements)."""
    rows = await session.execute(
        sa.select(PlacementDemand.demand_status, sa.func.count(), sa.func.coalesce(sa.func.sum(PlacementDemand.unit_count), 0))
        .group_by(PlacementDemand.demand_status)
    )
    return {status: {"placements": int(n), "homes": int(homes)} for status, n, homes in rows.all()}


async def open_shortfall(session: AsyncSession) -> list[tuple[str | None, dt.date, int]]:
    """(province, end date, homes short) of open demand that has a shortfall."""
    rows = await session.execute(
        sa.select(PlacementDemand.province_code, PlacementDemand.end_date, PlacementDemand.shortfall_units)
        .where(PlacementDemand.demand_status.in_(OPEN_DEMAND), PlacementDemand.shortfall_units > 0)
    )
    return [tuple(r) for r in rows.all()]  # type: ignore[misc]


# ----------------------------------------------------------------- rebuild


async def derived_demand_state(session: AsyncSession) -> list[sa.Row]:
    """What the matcher derived from the demand (declines, exclusions, states): kept across a rebuild."""
    return list((await session.execute(sa.text(
        "SELECT placement_id, demand_status, shortfall_units, excluded_sites, declined_allocations, committed_units"
        " FROM placements"
    ))).all())


async def truncate_read_model(session: AsyncSession) -> None:
    await session.execute(sa.text(f"TRUNCATE {', '.join(READ_MODEL_TABLES)}"))


async def restore_demand_state(session: AsyncSession, rows: list[sa.Row]) -> None:
    for row in rows:
        await session.execute(sa.text(
            "UPDATE placements SET demand_status = :s, shortfall_units = :f, excluded_sites = CAST(:e AS jsonb), "
            "declined_allocations = CAST(:d AS jsonb), committed_units = :c WHERE placement_id = :p"
        ), {"s": row.demand_status, "f": row.shortfall_units, "c": row.committed_units, "e": orjson.dumps(row.excluded_sites).decode(),
            "d": orjson.dumps(row.declined_allocations).decode(), "p": row.placement_id})
