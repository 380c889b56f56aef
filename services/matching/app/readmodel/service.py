"""Folding inventory.* and sites.* events into the read model, and turning rows into solver inputs."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.optimiser.solver import Demand, Plot
from services.matching.app.readmodel import repository as repo
from services.matching.app.readmodel.models import OPEN_DEMAND_STATUSES, PlacementDemand, PlotView
from shared.domain import SOFT_AS_EXCLUSION, BblLevel, Doelgroep, PermitInstrument, SiteKind
from shared.events import models as ev
from shared.clock import add_months
from shared.reference import province_of


async def record_complex(session: AsyncSession, data: ev.ComplexRegistered) -> None:
    await repo.upsert_complex(session, data.complex_id, data.investor_org, data.model_dump(mode="json"))


async def record_placement(session: AsyncSession, data: ev.PlacementCreated) -> None:
    # Insert only: an expiring event that arrived first already holds more.
    await repo.insert_demand_if_new(
        session, data.placement_id, complex_id=data.complex_id, investor_org=data.investor_org,
        gemeente_code=data.gemeente_code, province_code=province_of(data.gemeente_code), lat=data.lat, lon=data.lon,
        instrument=data.instrument.value, start_date=data.start_date, end_date=data.end_date,
        unit_count=len(data.unit_ids), demand_status="active", shortfall_units=0, excluded_sites=[], declined_allocations=[],
    )


def _expiring_values(data: ev.PlacementExpiring) -> dict:
    return dict(
        complex_id=data.complex.complex_id, investor_org=data.complex.investor_org, gemeente_code=data.gemeente_code,
        province_code=data.province_code or province_of(data.gemeente_code), lat=data.lat, lon=data.lon,
        instrument=data.instrument.value, start_date=data.start_date, end_date=data.end_date,
        unit_count=len(data.unit_ids) or data.complex.unit_count, complex_spec=data.complex.model_dump(mode="json"),
    )


async def record_expiring(session: AsyncSession, data: ev.PlacementExpiring) -> bool:
    """Record relocation demand. Returns True when the placement became waiting demand now."""
    return bool(await record_expiring_many(session, [data]))


async def record_expiring_many(session: AsyncSession, datas: Sequence[ev.PlacementExpiring]) -> list[uuid.UUID]:
    """`record_expiring` for several placements (each at most once) in a few statements, not a few per
    placement (a burst of expiring placements). Returns those that became waiting demand now."""
    existing = await repo.demand_for_update_many(session, [d.placement_id for d in datas])
    new: list[dict] = []
    became: list[uuid.UUID] = []
    for data in datas:
        values = _expiring_values(data)
        row = existing.get(data.placement_id)
        if row is None:
            new.append(dict(placement_id=data.placement_id, demand_status="waiting", shortfall_units=0,
                            excluded_sites=[], declined_allocations=[], committed_units=0, **values))
            became.append(data.placement_id)
            continue
        for k, v in values.items():
            setattr(row, k, v)
        if row.demand_status == "active":
            row.demand_status = "waiting"
            became.append(data.placement_id)
    await repo.insert_demands(session, new)
    return became


async def record_ended(session: AsyncSession, data: ev.PlacementEnded) -> PlacementDemand | None:
    """The term ended. Homes not relocated go into storage and stay demand (never dropped): waiting, with
    storage since the end date (the solver counts storage months from it, and allows plots opening up to
    the longest storage gap after it). Only a placement relocated in full, with nothing left, ends."""
    row = await repo.demand_for_update(session, data.placement_id)
    if row is None:
        return None
    if data.relocated and row.remaining_units == 0:
        if row.demand_status not in ("fallback", "closed"):
            row.demand_status = "ended"
        row.shortfall_units = 0
        return row
    row.storage_since = row.end_date = data.end_date
    row.storage_until = data.storage_until  # None in older events: the solver uses the policy's storage gap
    if row.complex_spec is None:  # never signalled expiring (the clock jumped past it): the spec from the complex
        row.complex_spec = await repo.complex_spec(session, row.complex_id)
    if row.demand_status in ("active", "ended"):
        row.demand_status = "waiting"
    return row


async def record_fallback(session: AsyncSession, data: ev.PlacementFallback) -> PlacementDemand | None:
    """Offered for sale (RTHF terugvaloptie): no longer matched; its remainder stays visible as shortfall."""
    row = await repo.demand_for_update(session, data.placement_id)
    if row is not None and row.demand_status != "closed":
        row.demand_status = "fallback"
        row.shortfall_units = row.remaining_units
    return row


async def record_closed(session: AsyncSession, data: ev.PlacementClosed) -> PlacementDemand | None:
    row = await repo.demand_for_update(session, data.placement_id)
    if row is not None:
        row.demand_status, row.shortfall_units = "closed", 0
    return row


def within_horizon(end_date: dt.date, today: dt.date, horizon_months: int) -> bool:
    return end_date <= add_months(today, horizon_months)


async def record_updated(session: AsyncSession, data: ev.PlacementUpdated, today: dt.date,
                         horizon_months: int) -> PlacementDemand | None:
    """A new end date. Beyond the horizon the placement is no demand yet (active); a term still running
    leaves storage; otherwise it stays (or becomes) waiting demand."""
    row = await repo.demand_for_update(session, data.placement_id)
    if row is None or row.demand_status in ("ended", "fallback", "closed"):
        return row
    row.end_date, row.start_date, row.instrument = data.end_date, data.start_date, data.instrument.value
    row.storage_since = data.end_date if data.end_date < today else None
    row.storage_until = None  # inventory's period was for the old end date; the policy's gap until it ends again
    if not within_horizon(data.end_date, today, horizon_months):
        if row.demand_status in OPEN_DEMAND_STATUSES:
            row.demand_status, row.shortfall_units = "active", 0
    elif row.demand_status == "active":
        if row.complex_spec is None:
            row.complex_spec = await repo.complex_spec(session, row.complex_id)
        row.demand_status = "waiting"
    return row


async def record_site(session: AsyncSession, data: ev.SiteSnapshot) -> bool:
    """Upsert a plot snapshot unless we already hold a newer version. Returns True when applied."""
    values = dict(
        version=data.version, status=data.status, gemeente_code=data.gemeente_code, province_code=data.province_code,
        kind=data.kind.value, capacity_units=data.capacity_units, reserved_units=data.reserved_units,
        snapshot=data.model_dump(mode="json"),
    )
    return await repo.upsert_plot_if_newer(session, data.site_id, data.version, values)


async def record_site_withdrawn(session: AsyncSession, data: ev.SiteWithdrawn) -> bool:
    return await repo.withdraw_plot_unless_newer(session, data.site_id, data.version)


async def record_reserved(session: AsyncSession, sites: Sequence[ev.ReservedSite | ev.ReleasedSite]) -> None:
    """The sites service's own count of reserved homes per plot."""
    for s in sites:
        await repo.set_reserved(session, s.site_id, s.reserved_units)


async def record_short_sites(session: AsyncSession, short_sites: list[ev.ShortSite]) -> None:
    """A rejected reservation told us what is really free on these plots."""
    for s in short_sites:
        plot = await repo.plot_for_update(session, s.site_id)
        if plot is not None:
            promised = int((plot.snapshot or {}).get("promised_units") or 0)  # free is net of promised homes too
            plot.reserved_units = max(0, plot.capacity_units - promised - s.free_units)


# ----------------------------------------------------------------- solver inputs


def is_social_rent(spec: dict, end_date: dt.date) -> bool:
    """RTHF homes stay social rent; SFT homes while their social-rent period runs past the move."""
    if spec.get("rthf"):
        return True
    sft = spec.get("sft")
    return bool(sft and dt.date.fromisoformat(sft["social_rent_until"]) > end_date)


def to_demand(row: PlacementDemand, extra_excluded: set[str] = frozenset()) -> Demand:  # type: ignore[assignment]
    spec = row.complex_spec or {}
    return Demand(
        key=str(row.placement_id), units=row.remaining_units, lat=row.lat, lon=row.lon, gemeente_code=row.gemeente_code,
        province_code=row.province_code or "", end_date=row.end_date, storage_until=row.storage_until,
        bbl_level=BblLevel(spec.get("bbl_level", "nieuwbouw")), composition_changed=bool(spec.get("composition_changed")),
        layers=int(spec.get("layers", 1)), doelgroepen=frozenset(Doelgroep(g) for g in spec.get("doelgroepen", [])),
        social_rent=is_social_rent(spec, row.end_date), min_group_size=int(spec.get("min_group_size", 1)),
        excluded_plots=frozenset(row.excluded_sites or []) | frozenset(extra_excluded),
    )


def to_plot(row: PlotView, promised: int) -> Plot:
    """`promised`: homes in open proposals; the municipality's own promised_units come off the capacity too."""
    s = row.snapshot
    readiness = s.get("readiness") or {}
    flags = set(s.get("exclusions", []))
    municipal_promise = int(s.get("promised_units") or 0)
    return Plot(
        key=str(row.site_id), free_units=row.capacity_units - row.reserved_units - municipal_promise - promised,
        lat=s["lat"], lon=s["lon"],
        gemeente_code=row.gemeente_code, province_code=row.province_code,
        available_from=dt.date.fromisoformat(s["available_from"]),
        available_until=dt.date.fromisoformat(s["available_until"]) if s.get("available_until") else None,
        kind=SiteKind(row.kind), expected_instrument=PermitInstrument(s["expected_instrument"]),
        max_layers=int(s["max_layers"]), allows_tijdelijk_bbl=bool(s["allows_tijdelijk_bbl"]),
        allows_permanent=bool(s["allows_permanent"]),
        doelgroep_restrictions=frozenset(Doelgroep(g) for g in s.get("doelgroep_restrictions", [])),
        social_rent_only=bool(s.get("social_rent_only")), bouwrijp=bool(readiness.get("bouwrijp")),
        utilities_complete=all(readiness.get(k) for k in ("water", "electricity", "sewer")),
        allows_social_rent=bool(s.get("allows_social_rent", True)),
        # events from before API 1.2 carry the soft factors among the exclusions
        exclusions=frozenset(flags - SOFT_AS_EXCLUSION),
        site_factors=frozenset(set(s.get("site_factors", [])) | (flags & SOFT_AS_EXCLUSION)),
    )
