"""Business rules of complexes: registration with all units, the event spec, valuation."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.complexes import repository
from services.inventory.app.complexes.models import Complex
from services.inventory.app.complexes.schemas import RTHF_MAX_RENT_EUR_MONTH, ComplexCreate, RthfClaim, Valuation
from shared.domain import RTHF_SPLIT, Doelgroep, Role, UnitStatus
from shared.events.models import ComplexRegistered, ComplexSpec
from shared.runtime import ServiceRuntime
from shared.web.identity import Principal
from shared.web.problems import InvalidInput, conflict

DAYS_PER_YEAR = 365.2425


def validate_complex(body: ComplexCreate, principal: Principal, today: dt.date) -> list[tuple[str, str]]:
    """Every cross-field rule of a complex (each documented once in schemas.COMPLEX_RULES, the OpenAPI x-rules)."""
    errors: list[tuple[str, str]] = []
    if principal.role is Role.marktmeester and not body.investor_org:
        errors.append(("investor_org", "the marktmeester registers on behalf of an organisation: give investor_org"))
    if principal.role is Role.investor and body.investor_org not in (None, principal.org):
        errors.append(("investor_org", "investors register complexes for their own organisation only"))
    if round(body.modules_per_unit * 2) != body.modules_per_unit * 2:
        errors.append(("modules_per_unit", "must be a multiple of 0.5"))
    if body.min_group_size > body.unit_count:
        errors.append(("min_group_size", f"must not exceed unit_count ({body.unit_count})"))
    if body.build_year is not None and body.build_year > today.year + 3:
        errors.append(("build_year", f"must not be later than {today.year + 3}"))
    if body.rthf is not None:
        # RTHF unit conditions: social rent up to the liberalisatiegrens, or housing ontheemden.
        houses_ontheemden = Doelgroep.ontheemden in body.doelgroepen
        if body.rent_eur_month is None and not houses_ontheemden:
            errors.append(("rent_eur_month", "required with an RTHF guarantee (social rent), unless the complex houses ontheemden"))
        if body.rent_eur_month is not None and body.rent_eur_month > RTHF_MAX_RENT_EUR_MONTH:
            errors.append(("rent_eur_month", f"must be at most {RTHF_MAX_RENT_EUR_MONTH} with an RTHF guarantee"))
        if not body.zelfstandig:
            errors.append(("zelfstandig", "RTHF homes must be self-contained (zelfstandige woonruimte)"))
        if not body.beng_compliant:
            errors.append(("beng_compliant", "RTHF homes must be bijna energieneutraal (BENG)"))
        if body.build_cost_eur_per_unit is not None and body.rthf.garantiebedrag_eur_per_unit > body.build_cost_eur_per_unit:
            errors.append(("rthf.garantiebedrag_eur_per_unit", "must not exceed build_cost_eur_per_unit"))
    if body.sft is not None and body.build_year is not None and body.sft.social_rent_until.year < body.build_year:
        errors.append(("sft.social_rent_until", "must not be before the build year"))
    return errors


def _short_code(complex_id: uuid.UUID) -> str:
    return complex_id.hex[:10].upper()


async def register(session: AsyncSession, runtime: ServiceRuntime, principal: Principal, body: ComplexCreate, today: dt.date) -> Complex:
    errors = validate_complex(body, principal, today)
    if errors:
        raise InvalidInput(errors)
    complex_id = uuid.uuid4()
    short_code = body.short_code or _short_code(complex_id)
    if body.short_code and await repository.short_code_taken(session, short_code):
        raise conflict(f"The short code {short_code} is already used by another complex.")
    values = body.model_dump(mode="json", exclude={"short_code", "investor_org"})
    values["doelgroepen"] = list(dict.fromkeys(values["doelgroepen"]))
    values["rechtens_verkregen_date"] = body.rechtens_verkregen_date  # a date column: the date, not its JSON string
    item = Complex(id=complex_id, short_code=short_code, investor_org=body.investor_org or principal.org, **values)
    session.add(item)
    try:
        await session.flush()
    except IntegrityError:  # a concurrent registration took the short code
        raise conflict(f"The short code {short_code} is already used by another complex.") from None
    units = [
        {"id": uuid.uuid4(), "complex_id": complex_id, "seq": n, "serial": f"{short_code}-{n:03d}", "status": UnitStatus.stored.value}
        for n in range(1, body.unit_count + 1)
    ]
    await repository.insert_units(session, units)
    await runtime.emit(session, "inventory.complex.registered", complex_id,
                       ComplexRegistered(**spec_fields(item), unit_ids=[u["id"] for u in units]))
    return item


def spec_fields(item: Complex) -> dict:
    """The complex as the event contract's ComplexSpec fields."""
    return {
        "complex_id": item.id,
        "investor_org": item.investor_org,
        "name": item.name,
        "supplier": item.supplier,
        "unit_count": item.unit_count,
        "typology": item.typology,
        "layers": item.layers,
        "floor_area_m2": item.floor_area_m2,
        "bedrooms": item.bedrooms,
        "modules_per_unit": item.modules_per_unit,
        "bbl_level": item.bbl_level,
        "composition_changed": item.composition_changed,
        "beng_compliant": item.beng_compliant,
        "energy_label": item.energy_label,
        "build_year": item.build_year,
        "technical_lifetime_yr": item.technical_lifetime_yr,
        "depreciation_yr": item.depreciation_yr,
        "build_cost_eur_per_unit": item.build_cost_eur_per_unit,
        "doelgroepen": item.doelgroepen,
        "rthf": item.rthf,
        "sft": item.sft,
        "min_group_size": item.min_group_size,
        "short_code": item.short_code,
        "zelfstandig": item.zelfstandig,
        "rechtens_verkregen_date": item.rechtens_verkregen_date,
        "rent_eur_month": item.rent_eur_month,
    }


def spec(item: Complex) -> ComplexSpec:
    return ComplexSpec(**spec_fields(item))


def _years(start: dt.date, end: dt.date) -> float:
    return max(0.0, (end - start).days / DAYS_PER_YEAR)


async def valuation(session: AsyncSession, item: Complex, today: dt.date, sale_eur_per_unit: float | None) -> Valuation:
    """Book value (straight line), remaining technical life and the RTHF claim of a complex.

    Depreciation runs from the first placement, or from 1 January of the build year when
    the complex was never placed (or from registration when neither is known).
    """
    first_start = await repository.first_placement_start(session, item.id)
    if first_start is not None:
        start = first_start
    elif item.build_year is not None:
        start = dt.date(item.build_year, 1, 1)
    else:
        start = item.created_at.date()
    depreciated_years = _years(start, today)
    # The building ages from its construction; without a build year, from its first use.
    age = _years(dt.date(item.build_year, 1, 1), today) if item.build_year is not None else depreciated_years
    units = await repository.owned_unit_count(session, item.id)
    book_per_unit = None
    if item.build_cost_eur_per_unit is not None:
        book_per_unit = round(item.build_cost_eur_per_unit * max(0.0, 1 - depreciated_years / item.depreciation_yr), 2)
    current = await repository.current_placement(session, item.id, today)
    follow_up = current is not None and current.relocation_id is not None
    claim = None
    if item.rthf is not None:
        guarantee = float(item.rthf["garantiebedrag_eur_per_unit"])
        sale = sale_eur_per_unit if sale_eur_per_unit is not None else (book_per_unit or 0.0)
        gap = max(0.0, guarantee - sale)
        total = gap * units
        claim = RthfClaim(
            applies=not follow_up,
            units=units,
            sale_eur_per_unit=round(sale, 2),
            garantiebedrag_eur_per_unit=guarantee,
            gap_eur_per_unit=round(gap, 2),
            gap_eur_total=round(total, 2),
            rijk_eur=round(total * RTHF_SPLIT["rijk"], 2),
            gemeente_eur=round(total * RTHF_SPLIT["gemeente"], 2),
            investor_eur=round(total * RTHF_SPLIT["investor"], 2),
        )
    return Valuation(
        complex_id=item.id,
        valuation_date=today,
        units=units,
        age_years=round(age, 2),
        remaining_technical_life_years=round(max(0.0, item.technical_lifetime_yr - age), 2),
        depreciation_start_date=start,
        book_value_eur_per_unit=book_per_unit,
        book_value_eur_total=round(book_per_unit * units, 2) if book_per_unit is not None else None,
        follow_up_scheduled=follow_up,
        rthf_claim=claim,
    )
