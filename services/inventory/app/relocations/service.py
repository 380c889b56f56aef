"""Relocation: on sites.reservation.confirmed record the plan and the follow-up placements."""

from __future__ import annotations

import datetime as dt
import logging
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.complexes import repository as complexes_repo
from services.inventory.app.deps import settings_of
from services.inventory.app.placements import lifecycle
from services.inventory.app.placements import repository as placements_repo
from services.inventory.app.placements.lifecycle import Lifecycle
from services.inventory.app.placements import service as placements
from services.inventory.app.relocations import repository
from services.inventory.app.relocations.models import Relocation
from shared.clock import add_months
from shared.domain import MAX_TERM_YEARS, PermitInstrument, UnitStatus
from shared.bus.consumer import Refused
from shared.events.models import RelocatedAllocation, RelocationRefused, RelocationScheduled, ReservationConfirmed, ReservedSite
from shared.runtime import ServiceRuntime
from shared.web.problems import ProblemError

log = logging.getLogger(__name__)


# Lifecycle states of a placement in which its homes can no longer be relocated by a confirmation.
CLOSED_LIFECYCLES = frozenset({Lifecycle.fallback.value, Lifecycle.closed_sold.value, Lifecycle.closed_dismantled.value})


def refusal(runtime: ServiceRuntime, data: ReservationConfirmed, reason: str) -> Refused:
    """A business refusal: no relocation; `inventory.relocation.refused` tells sites to release the
    capacity and matching to withdraw and re-propose (written with the inbox row, not retried)."""

    async def compensate(session: AsyncSession) -> None:
        await runtime.emit(
            session,
            "inventory.relocation.refused",
            data.reservation_id,
            RelocationRefused(
                reservation_id=data.reservation_id, proposal_id=data.proposal_id, placement_id=data.placement_id, reason=reason
            ),
        )

    return Refused(reason, compensate)


def follow_up_term(old_end: dt.date, site: ReservedSite, default_years: int) -> tuple[dt.date, dt.date]:
    """start = max(old end, plot available_from); end = min(plot available_until, start + instrument maximum),
    or start + default_years when neither bounds it."""
    start = max(old_end, site.available_from)
    bounds = []
    if site.available_until is not None:
        bounds.append(site.available_until)
    max_years = MAX_TERM_YEARS[PermitInstrument(site.expected_instrument)]
    if max_years is not None:
        bounds.append(add_months(start, 12 * max_years))
    end = min(bounds) if bounds else add_months(start, 12 * default_years)
    return start, max(end, start + dt.timedelta(days=1))


async def schedule(session: AsyncSession, runtime: ServiceRuntime, data: ReservationConfirmed) -> Relocation | None:
    """Record the relocation plan once per reservation (a re-delivery finds it and does nothing).

    A placement may be relocated in parts: each confirmation takes homes not yet relocated (the
    remainder of a partly housed proposal gets its own proposal later). Raises `Refused` when a
    business rule says no: unknown placement, placement closed or in fallback, fewer homes left
    than confirmed, or its homes now stand in a later placement the investor recorded.
    """
    if await repository.by_reservation(session, data.reservation_id) is not None:
        return None
    old = await repository.lock_placement(session, data.placement_id)
    if old is None:
        raise refusal(runtime, data, f"unknown_placement: placement {data.placement_id} is not in the inventory")
    if old.lifecycle in CLOSED_LIFECYCLES:
        raise refusal(runtime, data, f"placement_closed: the placement is {old.lifecycle}")
    if not lifecycle.allowed(old.lifecycle, Lifecycle.relocation_scheduled):
        raise refusal(runtime, data, f"lifecycle_forbids: a {old.lifecycle} placement cannot be relocated")
    units = await repository.units_of_placement(session, old.id)
    if not units:
        raise refusal(runtime, data, "placement_closed: none of the placement's homes remain (sold or dismantled)")
    later = await repository.later_placement_of_units(session, old, [u.id for u in units])
    ours = await repository.relocation_ids_of(session, old.id)
    elsewhere = [u for u in units if u.id in later and later[u.id] not in ours]
    units = [u for u in units if u.id not in later]  # not yet relocated, not placed on by the investor
    confirmed = sum(site.units for site in data.sites)
    if confirmed > len(units):
        if elsewhere:
            raise refusal(
                runtime, data,
                f"units_in_later_placement: {len(elsewhere)} of the placement's homes now stand in a later placement; "
                f"{confirmed} confirmed, {len(units)} left to relocate",
            )
        raise refusal(runtime, data, f"too_many_homes: {confirmed} homes confirmed, {len(units)} not yet relocated")
    complex_item = await complexes_repo.get(session, old.complex_id)
    assert complex_item is not None
    today = await clock_today(session, runtime)
    relocation_id = uuid.uuid4()
    allocations: list[RelocatedAllocation] = []
    cursor = 0
    starts: list[dt.date] = []
    for site in data.sites:
        moving = units[cursor : cursor + site.units]
        cursor += len(moving)
        if not moving:
            continue
        start, end = follow_up_term(old.end_date, site, settings_of(runtime).default_followup_term_years)
        starts.append(start)
        try:
            new = await placements.insert(
                session,
                runtime,
                complex_item=complex_item,
                unit_ids=[u.id for u in moving],
                site_id=site.site_id,
                gemeente_code=site.gemeente_code,
                lat=site.lat,
                lon=site.lon,
                instrument=PermitInstrument(site.expected_instrument),
                start_date=start,
                end_date=end,
                today=today,
                sequence_no=old.sequence_no + 1,
                created_by_relocation_id=relocation_id,
            )
        except ProblemError:  # a placement recorded concurrently took these homes: a rule says no
            raise refusal(runtime, data, "units_in_later_placement: the homes now stand in an overlapping placement") from None
        allocations.append(
            RelocatedAllocation(site_id=site.site_id, gemeente_code=site.gemeente_code, unit_ids=[u.id for u in moving], new_placement_id=new.id)
        )
    unallocated = [u.id for u in units[cursor:]]
    window_start = old.end_date
    window_end = max([window_start, *starts])
    # The move starts when the old term ends; until then the homes stay in use.
    if window_start <= today:
        await placements_repo.set_unit_status(session, [u for a in allocations for u in a.unit_ids], UnitStatus.in_transit.value)
    relocation = Relocation(
        id=relocation_id,
        reservation_id=data.reservation_id,
        proposal_id=data.proposal_id,
        placement_id=old.id,
        complex_id=old.complex_id,
        investor_org=old.investor_org,
        gemeente_codes=sorted({old.gemeente_code, *(a.gemeente_code for a in allocations)}),
        move_window_start=window_start,
        move_window_end=window_end,
        allocations=[a.model_dump(mode="json") for a in allocations],
        unallocated_unit_ids=[str(u) for u in unallocated],
        status="scheduled",
    )
    session.add(relocation)
    if old.relocation_id is None:  # the first part; later parts are found through relocations.placement_id
        old.relocation_id = relocation_id
    lifecycle.advance(old, Lifecycle.relocation_scheduled)
    await session.flush()
    await runtime.emit(
        session,
        "inventory.relocation.scheduled",
        relocation_id,
        RelocationScheduled(
            relocation_id=relocation_id,
            proposal_id=data.proposal_id,
            placement_id=old.id,
            complex_id=old.complex_id,
            investor_org=old.investor_org,
            move_window_start=window_start,
            move_window_end=window_end,
            allocations=allocations,
        ),
    )
    return relocation
