"""Business rules of placements: term limits per permit instrument, no double placement."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes import repository as complexes
from services.inventory.app.complexes.models import Complex
from services.inventory.app.placements import repository
from services.inventory.app.placements.models import Placement
from services.inventory.app.placements.schemas import PlacementCreate, PlacementDetail, PlacementOut, PlacementStatus
from shared.clock import add_months
from shared.domain import MAX_TERM_YEARS, PermitInstrument, Role, UnitStatus
from shared.events.models import PlacementCreated
from shared.reference import in_netherlands, municipalities
from shared.runtime import ServiceRuntime
from shared.web.identity import Principal
from shared.web.problems import InvalidInput, ProblemError, conflict, not_found
from shared.web.mapping import to_schema

GONE = {UnitStatus.sold.value, UnitStatus.dismantled.value}


def max_end_date(instrument: PermitInstrument, start: dt.date) -> dt.date | None:
    """The last allowed end date under the instrument's statutory maximum term (None = no maximum)."""
    years = MAX_TERM_YEARS[instrument]
    return add_months(start, 12 * years) if years is not None else None


def status_of(placement: Placement, today: dt.date) -> PlacementStatus:
    if placement.end_date < today:
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
