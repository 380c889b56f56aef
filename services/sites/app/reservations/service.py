"""Reserving plot capacity for accepted proposals, atomically and never beyond a plot's capacity.

Every reservation locks the plots' rows (SELECT ... FOR UPDATE, in id order, so two
transactions never wait on each other in a cycle) before reading their free capacity;
the CHECK reserved_units + promised_units <= capacity_units backs this up in the database.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.reservations import repository as repo
from services.sites.app.reservations.models import Reservation, ReservationLine
from services.sites.app.reservations.schemas import Reservation as ReservationOut
from services.sites.app.reservations.schemas import ReservationLine as LineOut
from services.sites.app.sites import repository as sites_repo
from services.sites.app.sites.service import emit_site_updated, free_units
from services.sites.app.db import clock_table
from shared import product_clock
from shared.clock import utcnow
from shared.domain import PermitInstrument, Role
from shared.events.models import (
    ProposalAccepted,
    ProposalWithdrawn,
    RelocationRefused,
    ReleasedSite,
    ReservationConfirmed,
    ReservationRejected,
    ReservationReleased,
    ReservedSite,
    ShortSite,
)
from shared.runtime import ServiceRuntime
from shared.web.identity import Principal, require_role
from shared.web.problems import not_found
from shared.web.mapping import to_schema

INSUFFICIENT_CAPACITY = "insufficient_capacity"
SITE_UNAVAILABLE = "site_unavailable"  # withdrawn, still a draft, or unknown


async def reserve(session: AsyncSession, runtime: ServiceRuntime, data: ProposalAccepted) -> Reservation:
    """Hold every plot's units of the proposal in one transaction, or none of them."""
    await product_clock.refresh(session, runtime, clock_table)  # reservation times are product time
    requested: dict[uuid.UUID, int] = defaultdict(int)
    gemeente: dict[uuid.UUID, str] = {}
    for allocation in data.allocations:
        requested[allocation.site_id] += allocation.units
        gemeente[allocation.site_id] = allocation.gemeente_code
    sites = await sites_repo.lock_many(session, list(requested))
    # Checked after the locks: a concurrent acceptance of the same proposal has committed by now.
    existing = await repo.by_proposal(session, data.proposal_id)
    if existing is not None:
        return existing  # one outcome per proposal; a repeated acceptance has no second effect

    reservation = Reservation(
        id=uuid.uuid4(),
        proposal_id=data.proposal_id,
        placement_id=data.placement_id,
        complex_id=data.complex_id,
        investor_org=data.investor_org,
        move_window_start=data.move_window_start,
        created_at=runtime.clock.now(),  # product time: when, in the product, the homes were reserved
    )
    lines = [
        ReservationLine(reservation_id=reservation.id, site_id=site_id, units=units, gemeente_code=gemeente[site_id])
        for site_id, units in sorted(requested.items())
        if units > 0
    ]
    short: list[ShortSite] = []
    reasons: set[str] = set()
    for line in lines:
        site = sites.get(line.site_id)
        if site is None or site.status != "published":
            short.append(ShortSite(site_id=line.site_id, requested_units=line.units, free_units=0))
            reasons.add(SITE_UNAVAILABLE)
        elif free_units(site) < line.units:
            short.append(ShortSite(site_id=line.site_id, requested_units=line.units, free_units=free_units(site)))
            reasons.add(INSUFFICIENT_CAPACITY)
    if not lines:
        reasons.add(SITE_UNAVAILABLE)

    if reasons:
        reservation.status = "rejected"
        reservation.reason = SITE_UNAVAILABLE if SITE_UNAVAILABLE in reasons else INSUFFICIENT_CAPACITY
        repo.add(session, reservation, lines)
        await runtime.emit(
            session,
            "sites.reservation.rejected",
            data.proposal_id,
            ReservationRejected(
                proposal_id=data.proposal_id, placement_id=data.placement_id, reason=reservation.reason, short_sites=short
            ),
        )
        return reservation

    reservation.status = "confirmed"
    now = utcnow()  # record time of the plot rows (updated_at)
    reserved_sites: list[ReservedSite] = []
    for line in lines:
        site = sites[line.site_id]
        site.reserved_units += line.units
        site.version += 1
        site.updated_at = now
        reserved_sites.append(
            ReservedSite(
                site_id=site.id,
                gemeente_code=site.gemeente_code,
                units=line.units,
                capacity_units=site.capacity_units,
                reserved_units=site.reserved_units,
                available_from=site.available_from,
                available_until=site.available_until,
                expected_instrument=PermitInstrument(site.expected_instrument),
                lat=site.lat,
                lon=site.lon,
            )
        )
    repo.add(session, reservation, lines)
    await session.flush()
    await runtime.emit(
        session,
        "sites.reservation.confirmed",
        reservation.id,
        ReservationConfirmed(
            reservation_id=reservation.id,
            proposal_id=data.proposal_id,
            placement_id=data.placement_id,
            complex_id=data.complex_id,
            investor_org=data.investor_org,
            sites=reserved_sites,
        ),
    )
    for line in lines:
        await emit_site_updated(session, runtime, sites[line.site_id])
    return reservation


async def release(session: AsyncSession, runtime: ServiceRuntime, data: ProposalWithdrawn) -> Reservation | None:
    """Give back a withdrawn proposal's units. Nothing to do when it was never confirmed."""
    return await release_proposal(session, runtime, data.proposal_id, f"proposal_withdrawn: {data.reason}")


async def release_refused(session: AsyncSession, runtime: ServiceRuntime, data: RelocationRefused) -> Reservation | None:
    """Compensation: inventory refused the relocation, so the capacity held for it is given back."""
    return await release_proposal(session, runtime, data.proposal_id, f"relocation_refused: {data.reason}")


async def release_proposal(session: AsyncSession, runtime: ServiceRuntime, proposal_id: uuid.UUID, reason: str) -> Reservation | None:
    """Release the proposal's confirmed reservation once (a second call finds it released and does nothing)."""
    await product_clock.refresh(session, runtime, clock_table)
    reservation = await repo.by_proposal(session, proposal_id)
    if reservation is None or reservation.status != "confirmed":
        return reservation
    lines = (await repo.lines_of(session, [reservation.id]))[reservation.id]
    sites = await sites_repo.lock_many(session, [line.site_id for line in lines])  # same lock order as reserve()
    reservation = await repo.by_proposal(session, proposal_id, for_update=True)
    if reservation is None or reservation.status != "confirmed":
        return reservation
    now = utcnow()  # record time of the plot rows (updated_at)
    released: list[ReleasedSite] = []
    for line in lines:
        site = sites.get(line.site_id)
        if site is None:
            continue
        site.reserved_units = max(0, site.reserved_units - line.units)
        site.version += 1
        site.updated_at = now
        released.append(ReleasedSite(site_id=site.id, units=line.units, reserved_units=site.reserved_units))
    reservation.status = "released"
    reservation.released_at = runtime.clock.now()  # product time, like created_at
    reservation.reason = reason[:200]
    await session.flush()
    await runtime.emit(
        session,
        "sites.reservation.released",
        reservation.id,
        ReservationReleased(
            reservation_id=reservation.id, proposal_id=reservation.proposal_id, placement_id=reservation.placement_id, sites=released,
            reason=reason[:500],
        ),
    )
    for line in lines:
        if line.site_id in sites:
            await emit_site_updated(session, runtime, sites[line.site_id])
    return reservation


# ---------------------------------------------------------------- reading


def _scope(principal: Principal) -> tuple[str | None, str | None]:
    """(investor_org, gemeente_code) the caller is limited to; (None, None) for the marktmeester."""
    require_role(principal, Role.marktmeester, Role.municipality, Role.investor)
    if principal.role is Role.investor:
        return principal.org, None
    if principal.role is Role.municipality:
        return None, principal.org
    return None, None


def to_api(reservation: Reservation, lines: list[ReservationLine], gemeente_code: str | None) -> ReservationOut:
    return to_schema(
        ReservationOut,
        reservation,
        # a municipality sees only the lines on its own plots
        lines=[to_schema(LineOut, li) for li in lines if gemeente_code is None or li.gemeente_code == gemeente_code],
    )


async def list_page(
    session: AsyncSession,
    principal: Principal,
    *,
    status: str | None,
    proposal_id: uuid.UUID | None,
    site_id: uuid.UUID | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[ReservationOut], str | None]:
    investor_org, gemeente_code = _scope(principal)
    rows, next_cursor = await repo.search(
        session,
        investor_org=investor_org,
        gemeente_code=gemeente_code,
        status=status,
        proposal_id=proposal_id,
        site_id=site_id,
        limit=limit,
        cursor=cursor,
    )
    lines = await repo.lines_of(session, [r.id for r in rows])
    return [to_api(r, lines[r.id], gemeente_code) for r in rows], next_cursor


async def get(session: AsyncSession, principal: Principal, reservation_id: uuid.UUID) -> ReservationOut:
    investor_org, gemeente_code = _scope(principal)
    reservation = await repo.get(session, reservation_id)
    if reservation is None:
        raise not_found("reservation", reservation_id)
    lines = (await repo.lines_of(session, [reservation.id]))[reservation.id]
    if (investor_org is not None and reservation.investor_org != investor_org) or (
        gemeente_code is not None and not any(li.gemeente_code == gemeente_code for li in lines)
    ):
        raise not_found("reservation", reservation_id)
    return to_api(reservation, lines, gemeente_code)
