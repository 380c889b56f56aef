"""Business rules of placements: term limits per permit instrument, no double placement."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes import repository as complexes
from services.inventory.app.complexes.models import Complex
from services.inventory.app.complexes import service as complexes_service
from services.inventory.app.placements import lifecycle, repository
from services.inventory.app.placements.lifecycle import CLOSED, Lifecycle
from services.inventory.app.placements.models import Placement
from services.inventory.app.placements.schemas import (
    EndStateChange,
    PlacementCreate,
    PlacementDetail,
    PlacementOut,
    PlacementStatus,
    PlacementUpdate,
)
from shared.clock import add_months
from shared.domain import MAX_TERM_YEARS, RTHF_SPLIT, PermitInstrument, Role, UnitStatus
from shared.events.models import FallbackClaim, PlacementClosed, PlacementCreated, PlacementUpdated
from shared.reference import in_netherlands, municipalities
from shared.runtime import ServiceRuntime
from shared.web.concurrency import require_current
from shared.web.identity import Principal
from shared.web.problems import InvalidInput, ProblemError, conflict, not_found
from shared.web.mapping import to_schema

GONE = {UnitStatus.sold.value, UnitStatus.dismantled.value}


def max_end_date(instrument: PermitInstrument, start: dt.date) -> dt.date | None:
    """The last allowed end date under the instrument's statutory maximum term (None = no maximum)."""
    years = MAX_TERM_YEARS[instrument]
    return add_months(start, 12 * years) if years is not None else None


def status_of(placement: Placement, today: dt.date) -> PlacementStatus:
    if placement.end_date < today or Lifecycle(placement.lifecycle) in CLOSED.values():
        return PlacementStatus.ended
    if placement.start_date > today:
        return PlacementStatus.scheduled
    if placement.expiring_emitted_at is not None:
        return PlacementStatus.expiring
    return PlacementStatus.active


def to_out(placement: Placement, status: str | PlacementStatus) -> PlacementOut:
    return to_schema(PlacementOut, placement, status=status)


def to_detail(placement: Placement, status: str | PlacementStatus, unit_ids: list[uuid.UUID]) -> PlacementDetail:
    return to_schema(PlacementDetail, placement, status=status, unit_ids=unit_ids)


def validate_placement(body: PlacementCreate) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if body.gemeente_code not in municipalities():
        errors.append(("gemeente_code", "not one of the 342 CBS gemeentecodes"))
    if not in_netherlands(body.lat, body.lon):
        errors.append(("lat", "the point is outside the Netherlands (50.75-53.7 N, 3.2-7.22 E)"))
        errors.append(("lon", "the point is outside the Netherlands (50.75-53.7 N, 3.2-7.22 E)"))
    if body.end_date <= body.start_date:
        errors.append(("end_date", "must be after start_date"))
    else:
        limit = max_end_date(body.instrument, body.start_date)
        if limit is not None and body.end_date > limit:
            years = MAX_TERM_YEARS[body.instrument]
            errors.append(("end_date", f"exceeds the {years}-year maximum term of {body.instrument.value} (at most {limit})"))
    if body.procedure_weeks is not None and body.procedure_weeks not in (8, 26):
        errors.append(("procedure_weeks", "must be 8 (regulier) or 26 (uitgebreid)"))
    if body.unit_ids is not None and len(set(body.unit_ids)) != len(body.unit_ids):
        errors.append(("unit_ids", "lists a unit more than once"))
    return errors



def homes_of(placement: Placement, unit_ids: list[uuid.UUID]) -> dict[str, Any]:
    """What every lifecycle event about a placement's homes names: the placement, its complex and investor,
    where it stands and which homes."""
    return dict(
        placement_id=placement.id, complex_id=placement.complex_id, investor_org=placement.investor_org,
        unit_ids=unit_ids, gemeente_code=placement.gemeente_code,
    )

async def create(
    session: AsyncSession,
    runtime: ServiceRuntime,
    principal: Principal,
    body: PlacementCreate,
    today: dt.date,
) -> tuple[Placement, list[uuid.UUID]]:
    errors = validate_placement(body)
    item: Complex | None = await complexes.get_visible(session, principal, body.complex_id)
    if item is None or (principal.role is not Role.marktmeester and item.investor_org != principal.org):
        if errors:
            raise InvalidInput(errors)
        raise not_found("complex", body.complex_id)
    units = await repository.lock_units(session, item.id, body.unit_ids)
    if body.unit_ids is not None and len(units) != len(set(body.unit_ids)):
        errors.append(("unit_ids", "some units do not belong to this complex"))
    if errors:
        raise InvalidInput(errors)
    gone = [u.serial for u in units if u.status in GONE]
    if gone:
        raise conflict(f"Units sold or dismantled cannot be placed: {', '.join(gone[:10])}.")
    unit_ids = [u.id for u in units]
    clashes = await repository.overlapping(session, unit_ids, body.start_date, body.end_date)
    if clashes:
        raise ProblemError(
            409,
            "Conflict",
            f"{sum(n for _, n in clashes)} unit(s) already stand in a placement whose term overlaps "
            f"{body.start_date}..{body.end_date}.",
            conflictingPlacements=[str(p) for p, _ in clashes],
        )
    placement = await insert(
        session,
        runtime,
        complex_item=item,
        unit_ids=unit_ids,
        site_id=body.site_id,
        gemeente_code=body.gemeente_code,
        lat=body.lat,
        lon=body.lon,
        instrument=body.instrument,
        permit_reference=body.permit_reference,
        procedure_weeks=body.procedure_weeks,
        restore_obligation=body.restore_obligation,
        start_date=body.start_date,
        end_date=body.end_date,
        today=today,
    )
    return placement, unit_ids


async def insert(
    session: AsyncSession,
    runtime: ServiceRuntime,
    *,
    complex_item: Complex,
    unit_ids: list[uuid.UUID],
    gemeente_code: str,
    lat: float,
    lon: float,
    instrument: PermitInstrument,
    start_date: dt.date,
    end_date: dt.date,
    today: dt.date,
    site_id: uuid.UUID | None = None,
    permit_reference: str | None = None,
    procedure_weeks: int | None = None,
    restore_obligation: bool = False,
    sequence_no: int | None = None,
    created_by_relocation_id: uuid.UUID | None = None,
) -> Placement:
    """Store a placement of these (already locked and checked) units and emit placement.created."""
    if sequence_no is None:
        sequence_no = await repository.previous_sequence(session, unit_ids, start_date) + 1
    placement = Placement(
        id=uuid.uuid4(),
        complex_id=complex_item.id,
        investor_org=complex_item.investor_org,
        site_id=site_id,
        gemeente_code=gemeente_code,
        province_code=municipalities()[gemeente_code].province_code,
        lat=lat,
        lon=lon,
        instrument=instrument.value,
        permit_reference=permit_reference,
        procedure_weeks=procedure_weeks,
        restore_obligation=restore_obligation,
        start_date=start_date,
        end_date=end_date,
        sequence_no=sequence_no,
        unit_count=len(unit_ids),
        created_by_relocation_id=created_by_relocation_id,
        # A follow-up placement starts when the scan sees its start date come (inventory.placement.started).
        lifecycle=(Lifecycle.scheduled if created_by_relocation_id is not None else Lifecycle.active).value,
    )
    session.add(placement)
    await session.flush()
    try:
        async with session.begin_nested():
            await repository.insert_placement_units(session, placement, unit_ids)
    except IntegrityError:  # the exclusion constraint: a concurrent placement took these units
        raise conflict("Some units already stand in a placement whose term overlaps this one.") from None
    if start_date <= today <= end_date:
        await repository.set_unit_status(session, unit_ids, UnitStatus.in_use.value)
    await runtime.emit(
        session,
        "inventory.placement.created",
        placement.id,
        PlacementCreated(
            placement_id=placement.id,
            complex_id=complex_item.id,
            investor_org=complex_item.investor_org,
            unit_ids=unit_ids,
            site_id=site_id,
            gemeente_code=gemeente_code,
            province_code=placement.province_code,
            lat=lat,
            lon=lon,
            instrument=instrument,
            permit_reference=permit_reference,
            start_date=start_date,
            end_date=end_date,
            sequence_no=sequence_no,
            relocation_id=created_by_relocation_id,
        ),
    )
    return placement


async def fallback_claim(session: AsyncSession, placement: Placement, unit_ids: list[uuid.UUID], today: dt.date) -> FallbackClaim:
    """The RTHF terugvaloptie claim of a placement's homes (DOMAIN.md §1 RTHF, "What it pays"): the homes are sold;
    when the sale value is below the garantiebedrag, the gap is split 60% Rijk, 25% gemeente, 15% investor.

    The sale value is the complex valuation's book value per home (GET /complexes/{id}/valuation) times the homes;
    the guaranteed amount is the complex's RTHF garantiebedrag per home times the homes (0 without RTHF).
    Without a build cost there is no book value: the sale value counts as 0 (the whole guarantee is the gap).
    """
    item = await complexes.get(session, placement.complex_id)
    assert item is not None
    homes = len(unit_ids)
    value = await complexes_service.valuation(session, item, today, None)
    valuation_eur = (value.book_value_eur_per_unit or 0.0) * homes
    guaranteed_eur = float(item.rthf["garantiebedrag_eur_per_unit"]) * homes if item.rthf else 0.0
    gap = max(0.0, guaranteed_eur - valuation_eur)
    return FallbackClaim(
        valuation_eur=round(valuation_eur, 2),
        guaranteed_eur=round(guaranteed_eur, 2),
        gap_eur=round(gap, 2),
        rijk_eur=round(gap * RTHF_SPLIT["rijk"], 2),
        gemeente_eur=round(gap * RTHF_SPLIT["gemeente"], 2),
        investor_eur=round(gap * RTHF_SPLIT["investor"], 2),
    )


async def managed(session: AsyncSession, principal: Principal, placement_id: uuid.UUID) -> Placement:
    """The placement, locked for a change by its owning investor or the marktmeester.

    403 for its gemeente (which reads it); 404 when unknown or another tenant's: another investor
    must not learn that the id exists (as when reading it).
    """
    placement = await repository.lock(session, placement_id)
    if placement is None:
        raise not_found("placement", placement_id)
    if principal.role is Role.marktmeester or (principal.role is Role.investor and placement.investor_org == principal.org):
        return placement
    if principal.role is Role.municipality and placement.gemeente_code == principal.org:
        raise ProblemError(403, "Forbidden", "Only the investor owning the placement or the marktmeester may change it.")
    raise not_found("placement", placement_id)


async def close(
    session: AsyncSession, runtime: ServiceRuntime, principal: Principal, placement_id: uuid.UUID, body: EndStateChange, today: dt.date
) -> tuple[Placement, list[uuid.UUID]]:
    """The investor's end state for the homes (sold or dismantled): the only way they leave the books."""
    placement = await managed(session, principal, placement_id)
    target = CLOSED[body.end_state]
    current = Lifecycle(placement.lifecycle)
    if current in (Lifecycle.relocation_scheduled, Lifecycle.relocated, Lifecycle.scheduled):
        raise lifecycle.IllegalTransition(current, target, "A relocation is scheduled for these homes; they cannot be closed.")
    lifecycle.check(current, target)
    unit_ids = await repository.unit_ids_of(session, placement.id)
    later = await repository.later_placements(session, placement, unit_ids)
    if later:
        raise ProblemError(
            409, "Conflict", "Some of these homes stand in a later placement; close that one instead.",
            conflictingPlacements=[str(p) for p in later],
        )
    lifecycle.advance(placement, target)
    placement.closed_on, placement.close_reason = today, body.reason
    placement.version += 1
    await repository.set_unit_status(session, unit_ids, lifecycle.UNIT_STATUS[target].value)  # type: ignore[union-attr]
    await session.flush()
    await runtime.emit(
        session,
        "inventory.placement.closed",
        placement.id,
        PlacementClosed(
            **homes_of(placement, unit_ids),
            end_state=body.end_state,
            closed_on=today,
            reason=body.reason,
        ),
    )
    return placement, unit_ids


def validate_update(placement: Placement, body: PlacementUpdate, today: dt.date) -> list[tuple[str, str]]:
    errors: list[tuple[str, str]] = []
    if "end_date" not in body.model_fields_set:
        return errors
    end = body.end_date
    if end is None:
        errors.append(("end_date", "must be a date"))
    elif end <= placement.start_date:
        errors.append(("end_date", f"must be after start_date ({placement.start_date})"))
    else:
        instrument = PermitInstrument(placement.instrument)
        limit = max_end_date(instrument, placement.start_date)
        if limit is not None and end > limit:
            errors.append(("end_date", f"exceeds the {MAX_TERM_YEARS[instrument]}-year maximum term of {instrument.value} (at most {limit})"))
        elif end < today:
            errors.append(("end_date", f"must not be before today ({today})"))
    return errors


async def update(
    session: AsyncSession,
    runtime: ServiceRuntime,
    principal: Principal,
    placement_id: uuid.UUID,
    body: PlacementUpdate,
    today: dt.date,
    if_match: str | None = None,
) -> tuple[Placement, list[uuid.UUID]]:
    """Change the term's end date (stay by extension) or the permit reference; emits placement.updated.

    A new end date returns the homes to in place (from expiring, storage or fallback) and resets the expiry
    signal, so the placement is signalled again for its new end date when that comes within the horizon.
    """
    placement = await managed(session, principal, placement_id)
    require_current(if_match, placement.version)
    errors = validate_update(placement, body, today)
    if errors:
        raise InvalidInput(errors)
    current = Lifecycle(placement.lifecycle)
    target = Lifecycle.scheduled if current is Lifecycle.scheduled else Lifecycle.active
    lifecycle.check(current, target, f"A placement that is {current.value} cannot be changed (closed, or a relocation is scheduled).")
    unit_ids = await repository.unit_ids_of(session, placement.id)
    previous_end = placement.end_date
    changed = False
    if "permit_reference" in body.model_fields_set and body.permit_reference != placement.permit_reference:
        placement.permit_reference, changed = body.permit_reference, True
    if body.end_date is not None and body.end_date != previous_end:
        changed = True
        lifecycle.advance(placement, target)
        placement.end_date = body.end_date
        placement.expiring_emitted_at = placement.ended_emitted_at = None
        placement.storage_since = placement.storage_until = placement.fallback_claim = None
        await session.flush()
        try:
            async with session.begin_nested():
                await repository.set_term_of_units(session, placement)
        except IntegrityError:  # the exclusion constraint: the homes stand elsewhere in the extended term
            raise conflict("Some of these homes stand in another placement during the extended term.") from None
        if placement.start_date <= today <= placement.end_date:
            await repository.set_unit_status(session, unit_ids, UnitStatus.in_use.value)
    if not changed:
        return placement, unit_ids
    placement.version += 1
    await session.flush()
    await runtime.emit(
        session,
        "inventory.placement.updated",
        placement.id,
        PlacementUpdated(
            **homes_of(placement, unit_ids),
            instrument=PermitInstrument(placement.instrument),
            start_date=placement.start_date,
            end_date=placement.end_date,
            previous_end_date=previous_end,
            permit_reference=placement.permit_reference,
        ),
    )
    return placement, unit_ids
