"""Business rules of plots: who may publish and change them, what a valid plot is, which events follow."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.sites import repository as repo
from services.sites.app.sites.geo import boundary_area_ha, boundary_problems
from services.sites.app.sites.models import Site
from services.sites.app.sites.schemas import (
    Garantiekavel,
    GarantiekavelIn,
    LocationIn,
    Readiness,
    SiteCreate,
    SiteUpdate,
)
from services.sites.app.sites.schemas import Site as SiteOut
from shared.clock import add_months, utcnow
from shared.domain import MAX_TERM_YEARS, PermitInstrument, Role, SiteKind, is_temporary
from shared.events.models import GarantiekavelInfo, SitePublished, SiteSnapshot, SiteUpdated, SiteWithdrawn
from shared.events.models import Readiness as ReadinessEvent
from shared.geo import Crs, transform_geometry, wgs84_to_rd
from shared.reference import MUNICIPALITY_TOLERANCE_M, distance_to_municipality_m, municipalities
from shared.runtime import ServiceRuntime
from shared.web.concurrency import require_current
from shared.web.identity import Principal, require_role
from shared.web.problems import InvalidInput, ProblemError, conflict, not_found
from shared.web.mapping import to_schema

# ---------------------------------------------------------------- who may see / change a plot


def can_see(principal: Principal, site: Site) -> bool:
    """Published plots are public; drafts and withdrawn plots only for their municipality and the marktmeester."""
    return site.status == "published" or can_manage(principal, site)


def can_manage(principal: Principal, site: Site) -> bool:
    return principal.is_marktmeester or (principal.role is Role.municipality and principal.org == site.gemeente_code)


def _require_publisher(principal: Principal) -> None:
    require_role(principal, Role.municipality, Role.marktmeester)


async def get_visible(session: AsyncSession, principal: Principal, site_id: uuid.UUID, *, for_update: bool = False) -> Site:
    site = await repo.get(session, site_id, for_update=for_update)
    if site is None or not can_see(principal, site):
        raise not_found("plot", site_id)
    return site


async def get_managed(session: AsyncSession, principal: Principal, site_id: uuid.UUID) -> Site:
    _require_publisher(principal)
    site = await get_visible(session, principal, site_id, for_update=True)
    if not can_manage(principal, site):
        raise ProblemError(403, "Forbidden", f"Only municipality {site.gemeente_code} or the marktmeester may change this plot.")
    return site


# ---------------------------------------------------------------- validation across fields


@dataclass
class PlotTerms:
    """The fields the cross-field rules look at, after a create or a merge of a PATCH."""

    kind: SiteKind
    capacity_units: int
    available_from: dt.date
    available_until: dt.date | None
    expected_instrument: PermitInstrument
    min_term_years: float
    allows_tijdelijk_bbl: bool | None
    garantiekavel: GarantiekavelIn | None
    promised_units: int = 0
    social_rent_only: bool = False
    allows_social_rent: bool = True


def rule_violations(t: PlotTerms) -> list[tuple[str, str]]:
    """The cross-field rules of a plot; each is documented once in schemas.PLOT_RULES (the OpenAPI x-rules)."""
    errors: list[tuple[str, str]] = []
    max_term = MAX_TERM_YEARS[t.expected_instrument]
    if max_term is not None and t.min_term_years > max_term:
        errors.append(
            (
                "min_term_years",
                f"{t.min_term_years:g} years is longer than {t.expected_instrument.value} allows (at most {max_term} years)",
            )
        )
    if t.available_until is not None:
        if t.available_until < t.available_from:
            errors.append(("available_until", "must not be before available_from"))
        elif t.min_term_years > 0 and add_months(t.available_from, round(t.min_term_years * 12)) > t.available_until:
            errors.append(
                ("available_until", f"the window {t.available_from}..{t.available_until} is shorter than min_term_years ({t.min_term_years:g})")
            )
    if t.kind is SiteKind.garantiekavel and t.garantiekavel is None:
        errors.append(("garantiekavel", "required for kind garantiekavel (cluster_id, vaste_kern_units, reserved_until)"))
    if t.kind is not SiteKind.garantiekavel and t.garantiekavel is not None:
        errors.append(("garantiekavel", "only a plot of kind garantiekavel carries garantiekavel details"))
    if t.promised_units > t.capacity_units:
        errors.append(("promised_units", f"must not exceed capacity_units ({t.capacity_units})"))
    if t.social_rent_only and not t.allows_social_rent:
        errors.append(("allows_social_rent", "must be true on a plot that takes social-rent homes only (social_rent_only)"))
    if t.allows_tijdelijk_bbl and not is_temporary(t.expected_instrument):
        errors.append(("allows_tijdelijk_bbl", "homes at Bbl tijdelijk level need a temporary permit regime, not permanent"))
    return errors


def location_violations(gemeente_code: str, location: LocationIn) -> list[tuple[str, str]]:
    """A plot lies in its gemeente (CBS 2025 boundary, within the tolerance the generalised boundary needs)."""
    lat, lon = location.wgs84()
    distance = distance_to_municipality_m(gemeente_code, lat, lon)
    if distance is not None and distance > MUNICIPALITY_TOLERANCE_M:
        name = municipalities()[gemeente_code].name
        return [
            (
                f"location.{location.given_field()}",
                f"the point ({lat:.5f}, {lon:.5f}) lies {distance / 1000:.1f} km outside gemeente {gemeente_code} {name} "
                f"(CBS 2025 boundary, tolerance {MUNICIPALITY_TOLERANCE_M:g} m)",
            )
        ]
    return []


# ---------------------------------------------------------------- mapping


def _set_location(site: Site, location: LocationIn) -> None:
    lat, lon = location.wgs84()
    site.lat, site.lon = lat, lon
    if location.rd_x is not None and location.rd_y is not None:
        site.rd_x, site.rd_y = location.rd_x, location.rd_y
    else:
        site.rd_x, site.rd_y = wgs84_to_rd(lat, lon)


def _set_readiness(site: Site, r: Readiness) -> None:
    site.bouwrijp, site.utility_water, site.utility_electricity = r.bouwrijp, r.water, r.electricity
    site.utility_sewer, site.utility_heat = r.sewer, r.heat


def _set_garantiekavel(site: Site, g: GarantiekavelIn | None) -> None:
    site.cluster_id = g.cluster_id if g else None
    site.vaste_kern_units = g.vaste_kern_units if g else None
    site.reserved_until = g.reserved_until if g else None
    site.location_may_shift = g.location_may_shift if g else None


def _garantiekavel_of(site: Site) -> GarantiekavelIn | None:
    if site.cluster_id is None:
        return None
    return GarantiekavelIn(
        cluster_id=site.cluster_id,
        vaste_kern_units=site.vaste_kern_units or 0,
        reserved_until=site.reserved_until,
        location_may_shift=bool(site.location_may_shift),
    )


def _readiness_of(site: Site) -> Readiness:
    return Readiness(
        bouwrijp=site.bouwrijp,
        water=site.utility_water,
        electricity=site.utility_electricity,
        sewer=site.utility_sewer,
        heat=site.utility_heat,
    )


def boundary_in(boundary: Any, crs: Crs) -> tuple[dict[str, Any] | None, list[tuple[str, str]]]:
    """A request's boundary in WGS84 (how it is stored), and what is wrong with it (named `boundary`)."""
    if boundary is None:
        return None, []
    geojson = transform_geometry(boundary.model_dump(mode="json", exclude_none=True), crs, Crs.wgs84)
    problems = boundary_problems(geojson)
    if problems and crs is not Crs.wgs84:
        problems.append(f"positions read as {crs.epsg} (Content-Crs)")
    return geojson, [("boundary", "; ".join(problems))] if problems else []


def free_units(site: Site) -> int:
    """What the market may still use: capacity less reservations and the municipality's own promises."""
    return site.capacity_units - site.reserved_units - site.promised_units


def to_api(site: Site, distance_km: float | None = None, crs: Crs = Crs.wgs84) -> SiteOut:
    g = _garantiekavel_of(site)
    return to_schema(
        SiteOut,
        site,
        boundary=transform_geometry(site.boundary, Crs.wgs84, crs) if site.boundary else None,
        location={"lat": site.lat, "lon": site.lon, "rd_x": round(site.rd_x, 2), "rd_y": round(site.rd_y, 2)},
        free_units=free_units(site),
        max_term_years=MAX_TERM_YEARS[PermitInstrument(site.expected_instrument)],
        readiness=_readiness_of(site),
        garantiekavel=Garantiekavel(**g.model_dump()) if g else None,
        distance_km=round(distance_km, 3) if distance_km is not None else None,
    )


def snapshot_fields(site: Site) -> dict[str, Any]:
    """Everything matching needs about a plot, as the SiteSnapshot event carries it."""
    g = _garantiekavel_of(site)
    return dict(
        site_id=site.id,
        version=site.version,
        status=site.status,
        gemeente_code=site.gemeente_code,
        province_code=site.province_code,
        name=site.name,
        kind=SiteKind(site.kind),
        lat=site.lat,
        lon=site.lon,
        capacity_units=site.capacity_units,
        reserved_units=site.reserved_units,
        promised_units=site.promised_units,
        available_from=site.available_from,
        available_until=site.available_until,
        expected_instrument=PermitInstrument(site.expected_instrument),
        min_term_years=site.min_term_years,
        max_layers=site.max_layers,
        allows_tijdelijk_bbl=site.allows_tijdelijk_bbl,
        allows_permanent=site.allows_permanent,
        doelgroep_restrictions=site.doelgroep_restrictions,
        social_rent_only=site.social_rent_only,
        allows_social_rent=site.allows_social_rent,
        readiness=ReadinessEvent(**_readiness_of(site).model_dump()),
        exclusions=site.exclusions,
        site_factors=site.site_factors,
        dist_ov_m=site.dist_ov_m,
        dist_shops_m=site.dist_shops_m,
        garantiekavel=GarantiekavelInfo(**g.model_dump()) if g else None,
    )


async def emit_site_updated(session: AsyncSession, runtime: ServiceRuntime, site: Site) -> None:
    await runtime.emit(session, "sites.site.updated", site.id, SiteUpdated(**snapshot_fields(site)))


# ---------------------------------------------------------------- commands


async def create(
    session: AsyncSession, runtime: ServiceRuntime, principal: Principal, body: SiteCreate, crs: Crs = Crs.wgs84
) -> Site:
    _require_publisher(principal)
    if principal.role is Role.municipality and principal.org != body.gemeente_code:
        raise ProblemError(403, "Forbidden", f"Municipality {principal.org} may only publish plots in its own gemeente.")
    allows_tijdelijk = body.allows_tijdelijk_bbl
    if allows_tijdelijk is None:
        allows_tijdelijk = is_temporary(body.expected_instrument)
    errors = rule_violations(
        PlotTerms(
            kind=body.kind,
            capacity_units=body.capacity_units,
            available_from=body.available_from,
            available_until=body.available_until,
            expected_instrument=body.expected_instrument,
            min_term_years=body.min_term_years,
            allows_tijdelijk_bbl=body.allows_tijdelijk_bbl,
            garantiekavel=body.garantiekavel,
            promised_units=body.promised_units,
            social_rent_only=body.social_rent_only,
            allows_social_rent=body.allows_social_rent,
        )
    ) + location_violations(body.gemeente_code, body.location)
    boundary, boundary_errors = boundary_in(body.boundary, crs)
    errors += boundary_errors
    if errors:
        raise InvalidInput(errors)
    now = utcnow()  # record times (created/updated/published) stay real time; availability dates are product dates
    site = Site(
        id=uuid.uuid4(),
        status=body.status,
        version=1,
        gemeente_code=body.gemeente_code,
        province_code=municipalities()[body.gemeente_code].province_code,
        name=body.name,
        kind=body.kind.value,
        boundary=boundary,
        area_ha=body.area_ha if body.area_ha is not None else (boundary_area_ha(boundary) if boundary else None),
        capacity_units=body.capacity_units,
        reserved_units=0,
        promised_units=body.promised_units,
        available_from=body.available_from,
        available_until=body.available_until,
        expected_instrument=body.expected_instrument.value,
        min_term_years=body.min_term_years,
        max_layers=body.max_layers,
        allows_tijdelijk_bbl=allows_tijdelijk,
        allows_permanent=body.allows_permanent,
        doelgroep_restrictions=[d.value for d in body.doelgroep_restrictions],
        social_rent_only=body.social_rent_only,
        allows_social_rent=body.allows_social_rent,
        exclusions=sorted({e.value for e in body.exclusions}),
        site_factors=sorted({f.value for f in body.site_factors}),
        dist_ov_m=body.dist_ov_m,
        dist_shops_m=body.dist_shops_m,
        created_by=principal.key,
        created_at=now,
        updated_at=now,
        published_at=now if body.status == "published" else None,
    )
    _set_location(site, body.location)
    _set_readiness(site, body.readiness)
    _set_garantiekavel(site, body.garantiekavel)
    repo.add(session, site)
    await session.flush()
    if site.status == "published":
        await runtime.emit(session, "sites.site.published", site.id, SitePublished(**snapshot_fields(site)))
    return site


async def update(
    session: AsyncSession, runtime: ServiceRuntime, principal: Principal, site_id: uuid.UUID, body: SiteUpdate,
    if_match: str | None = None, crs: Crs = Crs.wgs84,
) -> Site:
    site = await get_managed(session, principal, site_id)
    require_current(if_match, site.version)
    if site.status == "withdrawn":
        raise conflict("The plot is withdrawn; a withdrawn plot cannot be changed.")
    changes = {name: getattr(body, name) for name in body.model_fields_set}
    if changes.get("status") == "draft" and site.status == "published":
        raise conflict("A published plot cannot go back to draft; withdraw it instead.")
    instrument = changes.get("expected_instrument") or PermitInstrument(site.expected_instrument)
    allows_tijdelijk: bool | None = site.allows_tijdelijk_bbl
    if "allows_tijdelijk_bbl" in changes:
        allows_tijdelijk = changes["allows_tijdelijk_bbl"]
    elif "expected_instrument" in changes and not is_temporary(instrument):
        allows_tijdelijk = False  # follows the new regime unless stated in the same request
    merged = PlotTerms(
        kind=changes.get("kind") or SiteKind(site.kind),
        capacity_units=changes.get("capacity_units") or site.capacity_units,
        available_from=changes.get("available_from") or site.available_from,
        available_until=changes["available_until"] if "available_until" in changes else site.available_until,
        expected_instrument=instrument,
        min_term_years=changes["min_term_years"] if changes.get("min_term_years") is not None else site.min_term_years,
        allows_tijdelijk_bbl=allows_tijdelijk,
        garantiekavel=changes["garantiekavel"] if "garantiekavel" in changes else _garantiekavel_of(site),
        promised_units=changes["promised_units"] if changes.get("promised_units") is not None else site.promised_units,
        social_rent_only=changes["social_rent_only"] if changes.get("social_rent_only") is not None else site.social_rent_only,
        allows_social_rent=(
            changes["allows_social_rent"] if changes.get("allows_social_rent") is not None else site.allows_social_rent
        ),
    )
    errors = rule_violations(merged)
    if changes.get("location") is not None:
        errors += location_violations(site.gemeente_code, changes["location"])
    if "boundary" in changes:
        changes["boundary"], boundary_errors = boundary_in(changes["boundary"], crs)
        errors += boundary_errors
    if errors:
        raise InvalidInput(errors)
    if merged.capacity_units < site.reserved_units + merged.promised_units:
        raise conflict(
            f"{site.reserved_units} homes are reserved and {merged.promised_units} promised on this plot; "
            "capacity_units cannot go below their sum."
        )
    if not changes:
        return site

    was = site.status
    for name in ("name", "min_term_years", "max_layers", "allows_permanent", "social_rent_only", "allows_social_rent", "promised_units", "dist_ov_m", "dist_shops_m", "capacity_units", "available_from", "available_until", "area_ha"):
        if name in changes:
            setattr(site, name, changes[name])
    if "status" in changes:
        site.status = changes["status"]
    site.kind = merged.kind.value
    site.expected_instrument = merged.expected_instrument.value
    site.allows_tijdelijk_bbl = bool(
        merged.allows_tijdelijk_bbl if merged.allows_tijdelijk_bbl is not None else is_temporary(merged.expected_instrument)
    )
    if "location" in changes:
        _set_location(site, changes["location"])
    if "boundary" in changes:
        site.boundary = changes["boundary"]
        if "area_ha" not in changes and site.boundary is not None:
            site.area_ha = boundary_area_ha(site.boundary)
    if "readiness" in changes:
        _set_readiness(site, changes["readiness"])
    if "doelgroep_restrictions" in changes:
        site.doelgroep_restrictions = [d.value for d in changes["doelgroep_restrictions"]]
    if "exclusions" in changes:
        site.exclusions = sorted({e.value for e in changes["exclusions"]})
    if "site_factors" in changes:
        site.site_factors = sorted({f.value for f in changes["site_factors"]})
    _set_garantiekavel(site, merged.garantiekavel)
    site.version += 1
    site.updated_at = utcnow()
    if was == "draft" and site.status == "published":
        site.published_at = site.updated_at
        await runtime.emit(session, "sites.site.published", site.id, SitePublished(**snapshot_fields(site)))
    elif site.status == "published":
        await emit_site_updated(session, runtime, site)
    return site


async def withdraw(session: AsyncSession, runtime: ServiceRuntime, principal: Principal, site_id: uuid.UUID) -> Site:
    site = await get_managed(session, principal, site_id)
    if site.status == "withdrawn":
        return site  # withdrawing twice changes nothing
    if site.reserved_units > 0:
        raise conflict(
            f"{site.reserved_units} homes are reserved on this plot; release the reservations before withdrawing it."
        )
    was = site.status
    site.status = "withdrawn"
    site.version += 1
    site.updated_at = site.withdrawn_at = utcnow()
    if was == "published":
        await runtime.emit(
            session, "sites.site.withdrawn", site.id, SiteWithdrawn(site_id=site.id, version=site.version, gemeente_code=site.gemeente_code)
        )
    return site


def snapshot(site: Site) -> SiteSnapshot:
    return SiteSnapshot(**snapshot_fields(site))
