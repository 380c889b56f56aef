"""API schemas of plots (kavels). Field names match the SiteSnapshot event where they overlap."""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from typing import Annotated, Any, Literal

from geojson_pydantic import MultiPolygon, Polygon
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import InitErrorDetails, PydanticCustomError

from services.sites.app.sites.geo import MAX_BOUNDARY_POSITIONS, count_positions
from shared.geo import rd_to_wgs84
from shared.web.limits import Day
from shared.web.pagination import Page
from shared.domain import Doelgroep, ExclusionFlag, PermitInstrument, SiteFactor, SiteKind
from shared.web.geojson import Geometry
from shared.reference import NL_BBOX, in_netherlands, municipalities
from shared.web.rules import CrossFieldRule, documented, with_changes


def _known_municipality(code: str) -> str:
    if code not in municipalities():
        raise ValueError(f"{code} is not one of the 342 CBS gemeentecodes")
    return code


def _bounded_boundary(value: Any) -> Any:
    # counted before the typed parse: a coastline-sized ring is refused without building it
    if isinstance(value, dict) and count_positions(value.get("coordinates")) > MAX_BOUNDARY_POSITIONS:
        raise ValueError(f"more than {MAX_BOUNDARY_POSITIONS} positions")
    return value


GemeenteCode = Annotated[
    str,
    Field(pattern=r"^GM\d{4}$", description="CBS gemeentecode (`GM` + 4 digits).", examples=["GM0772"]),
    AfterValidator(_known_municipality),
]
BoundaryGeometry = Annotated[Polygon | MultiPolygon, Field(discriminator="type")]
BOUNDARY_EXAMPLE = {"type": "Polygon", "coordinates": [[[5.47, 51.44], [5.48, 51.44], [5.48, 51.45], [5.47, 51.45], [5.47, 51.44]]]}
Boundary = Annotated[
    BoundaryGeometry | None,
    Field(
        description=(
            "Optional plot boundary: a GeoJSON Polygon or MultiPolygon, valid and inside the Netherlands, at most "
            f"{MAX_BOUNDARY_POSITIONS} positions. Positions are in the CRS of the `Content-Crs` header: [lon, lat] in "
            "WGS84 (the default) or [x, y] metres in RD New (EPSG:28992)."
        ),
        examples=[BOUNDARY_EXAMPLE],
    ),
    BeforeValidator(_bounded_boundary),
]
ALLOWS_PERMANENT = (
    "The plot may also take homes built to the permanent (Bbl nieuwbouw) level, not only to the temporary level. "
    "Recorded for the municipality's plan; the matching does not filter on it."
)
SOCIAL_RENT_ONLY = (
    "Only social-rent homes may stand here. The matching then proposes only complexes whose homes must stay social rent "
    "(RTHF homes, and SFT homes while their social-rent term runs past the placement's end). The reverse also holds "
    "without this flag: such homes never go to a plot restricted to non-social target groups (expats, arbeidsmigranten)."
)
ALLOWS_SOCIAL_RENT = (
    "Social-rent homes may stand here (default). False: the plot is meant for other housing, so homes that must stay "
    "social rent (RTHF homes, SFT homes within their social-rent term) are never proposed for it. "
    "Contradicts `social_rent_only: true`."
)
PROMISED_UNITS = (
    "Homes the municipality already promised outside the market (existing agreements); they are not free: "
    "free_units = capacity_units - reserved_units - promised_units. At most capacity_units."
)
EXCLUSIONS = (
    "Hard PBL exclusions (natura2000, externe_veiligheid, monument, military): a plot carrying any of them is never "
    "proposed. Noise and water risk are soft: give them in `site_factors` (sending them here is a 400)."
)
SITE_FACTORS = (
    "Soft site factors: `geluid` (noise) and `water_risk` (water en bodem sturend). The plot stays usable; the matching "
    "adds a small cost per home per factor (site_factor_eur_per_unit, EUR 1,500 by default), so between otherwise "
    "equal plots the one without them wins."
)
VASTE_KERN = (
    "Permanent homes of the cluster's fixed core (vaste kern). They stand next to the spots, not on them, so the number "
    "is independent of capacity_units (which counts the spots for relocated homes) and takes nothing from it."
)


def _hard_exclusion(value: Any) -> Any:
    if isinstance(value, str) and value in {f.value for f in SiteFactor}:
        raise ValueError(f"{value} is a soft site factor since API 1.2, not a hard exclusion: use site_factors")
    return value


HardExclusion = Annotated[ExclusionFlag, BeforeValidator(_hard_exclusion)]
SiteStatus = Literal["draft", "published", "withdrawn"]


class StrictModel(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _field_error(field: str, message: str) -> ValidationError:
    """An error located at `field` of the model being validated (a plain ValueError names only the model)."""
    return ValidationError.from_exception_data(
        "LocationIn", [InitErrorDetails(type=PydanticCustomError("value_error", message), loc=(field,), input=None)]
    )


class LocationIn(StrictModel):
    """Where the plot is: WGS84 `lat`/`lon`, or RD New (EPSG:28992) `rd_x`/`rd_y` in metres."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"lat": 51.4416, "lon": 5.4697}, {"rd_x": 161500.0, "rd_y": 383200.0}],
            # one pair, complete: the half of a pair is required by the other half
            "dependentRequired": {"lat": ["lon"], "lon": ["lat"], "rd_x": ["rd_y"], "rd_y": ["rd_x"]},
        },
    )

    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)
    rd_x: float | None = Field(default=None, description="RD New x (metres)")
    rd_y: float | None = Field(default=None, description="RD New y (metres)")

    @model_validator(mode="after")
    def _one_pair_inside_nl(self) -> "LocationIn":
        wgs = self.lat is not None or self.lon is not None
        rd = self.rd_x is not None or self.rd_y is not None
        if wgs and rd:
            raise _field_error("rd_x", "give either lat and lon (WGS84) or rd_x and rd_y (RD New), not both")
        if not wgs and not rd:
            raise _field_error("lat", "required: lat and lon (WGS84), or rd_x and rd_y (RD New)")
        # a half pair names the missing field (`location.lon`), not the whole location
        for first, second in (("lat", "lon"), ("rd_x", "rd_y")):
            if (getattr(self, first) is None) != (getattr(self, second) is None):
                missing = first if getattr(self, first) is None else second
                raise _field_error(missing, f"{first} and {second} must be given together")
        lat, lon = self.wgs84()
        if not in_netherlands(lat, lon):
            raise _field_error(
                "lat" if self.lat is not None else "rd_x",
                f"the point ({lat:.5f}, {lon:.5f}) lies outside the Netherlands "
                f"(lat {NL_BBOX['min_lat']}..{NL_BBOX['max_lat']}, lon {NL_BBOX['min_lon']}..{NL_BBOX['max_lon']})",
            )
        return self

    def given_field(self) -> str:
        """The first coordinate field given: the one a problem with the point as a whole names."""
        return "lat" if self.lat is not None else "rd_x"

    def wgs84(self) -> tuple[float, float]:
        if self.lat is not None and self.lon is not None:
            return self.lat, self.lon
        assert self.rd_x is not None and self.rd_y is not None
        return rd_to_wgs84(self.rd_x, self.rd_y)


class Location(BaseModel):
    lat: float = Field(examples=[51.4416])
    lon: float = Field(examples=[5.4697])
    rd_x: float = Field(description="RD New x (metres)", examples=[161500.0])
    rd_y: float = Field(description="RD New y (metres)", examples=[383200.0])


class Readiness(StrictModel):
    """Bouwrijp and utilities: site preparation is about half of the relocation cost."""

    bouwrijp: bool = False
    water: bool = False
    electricity: bool = False
    sewer: bool = False
    heat: bool = False


class GarantiekavelIn(StrictModel):
    """National garantiekavel: a cluster of single-home spots (about 50) kept in reserve."""

    cluster_id: str = Field(min_length=1, max_length=100, examples=["GK-NB-007"])
    vaste_kern_units: int = Field(default=0, ge=0, le=10_000, description=VASTE_KERN, examples=[35])
    reserved_until: Day | None = Field(default=None, examples=["2045-12-31"])
    location_may_shift: bool = False


class SiteFields(StrictModel):
    """Everything about a plot that a municipality states (shared by create and update)."""

    name: str = Field(min_length=1, max_length=200, examples=["Kavel Strijp-Noord"])
    kind: SiteKind = Field(default=SiteKind.municipal, description="garantiekavel | municipal | private")
    location: LocationIn
    boundary: Boundary = None
    area_ha: float | None = Field(default=None, gt=0, le=10_000, description="Derived from the boundary when omitted.", examples=[1.7])
    capacity_units: int = Field(gt=0, le=10_000, description="Homes the plot can hold (a garantiekavel spot holds one).", examples=[48])
    promised_units: int = Field(default=0, ge=0, le=10_000, description=PROMISED_UNITS, examples=[0])
    available_from: Day = Field(examples=["2027-06-01"])
    available_until: Day | None = Field(default=None, description="Null: open-ended.", examples=["2039-05-31"])
    expected_instrument: PermitInstrument = Field(
        default=PermitInstrument.wabo_bor4_11, description="Permit regime the municipality intends; bounds the term."
    )
    min_term_years: float = Field(default=0, ge=0, le=75, description="Shortest follow-up term offered.", examples=[5])
    max_layers: int = Field(default=1, ge=1, le=6, description="Maximum stacking layers.", examples=[2])
    allows_tijdelijk_bbl: bool | None = Field(
        default=None, description="Homes at Bbl tijdelijk level allowed; default: only when the regime is temporary."
    )
    allows_permanent: bool = Field(default=True, description=ALLOWS_PERMANENT)
    doelgroep_restrictions: list[Doelgroep] = Field(default_factory=list, max_length=20)
    social_rent_only: bool = Field(default=False, description=SOCIAL_RENT_ONLY)
    allows_social_rent: bool = Field(default=True, description=ALLOWS_SOCIAL_RENT)
    readiness: Readiness = Field(default_factory=Readiness)
    exclusions: list[HardExclusion] = Field(default_factory=list, max_length=10, description=EXCLUSIONS)
    site_factors: list[SiteFactor] = Field(default_factory=list, max_length=10, description=SITE_FACTORS)
    dist_ov_m: float | None = Field(default=None, ge=0, le=100_000, description="Distance to public transport (m).")
    dist_shops_m: float | None = Field(default=None, ge=0, le=100_000, description="Distance to shops (m).")
    garantiekavel: GarantiekavelIn | None = Field(default=None, description="Required for kind garantiekavel only.")


SITE_EXAMPLE: dict[str, Any] = {
    "gemeente_code": "GM0772",
    "name": "Kavel Strijp-Noord",
    "kind": "municipal",
    "location": {"lat": 51.4416, "lon": 5.4697},
    "capacity_units": 48,
    "promised_units": 0,
    "available_from": "2027-06-01",
    "available_until": "2039-05-31",
    "expected_instrument": "wabo_bor4_11",
    "min_term_years": 5,
    "max_layers": 2,
    "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
    "site_factors": ["geluid"],
    "status": "published",
}
_GARANTIEKAVEL = {"cluster_id": "GK-NB-007", "vaste_kern_units": 60, "reserved_until": "2045-12-31"}
_LOC = SITE_EXAMPLE["location"]

# Every rule that spans fields; the field-level ranges are in the schema itself.
PLOT_RULES = [
    CrossFieldRule(
        "location_one_pair", "Give the point as lat and lon (WGS84) or as rd_x and rd_y (RD New), not both.", "location.rd_x",
        with_changes(SITE_EXAMPLE, location={**_LOC, "rd_x": 161500.0, "rd_y": 383200.0}), reads=("location.lat", "location.lon"),
    ),
    CrossFieldRule(
        "location_pair_complete", "lat comes with lon, rd_x with rd_y; the problem names the missing one.", "location.lon",
        with_changes(SITE_EXAMPLE, location={"lat": 51.4416}), reads=("location.lat",),
    ),
    CrossFieldRule(
        "location_in_netherlands", "The point lies in the Netherlands (WGS84 bounding box 50.75-53.7 N, 3.2-7.22 E).",
        "location.lat", with_changes(SITE_EXAMPLE, location={"lat": 48.8566, "lon": 2.3522}), reads=("location.lon",),
    ),
    CrossFieldRule(
        "location_in_gemeente", "The point lies in the plot's gemeente (CBS 2025 boundary, with a small tolerance).",
        "location.lat", with_changes(SITE_EXAMPLE, location={"lat": 52.3702, "lon": 4.8952}), reads=("gemeente_code", "location.lon"),
    ),
    CrossFieldRule(
        "min_term_within_regime", "min_term_years is at most the statutory maximum term of expected_instrument "
        "(wro_voorlopig 5, wabo_bor4_11 10 years).", "min_term_years",
        with_changes(SITE_EXAMPLE, expected_instrument="wro_voorlopig", min_term_years=6), reads=("expected_instrument",),
    ),
    CrossFieldRule(
        "window_order", "available_until is not before available_from.", "available_until",
        with_changes(SITE_EXAMPLE, min_term_years=0, available_until="2027-01-01"), reads=("available_from",),
    ),
    CrossFieldRule(
        "window_fits_min_term", "A closed window (available_until given) is at least min_term_years long.", "available_until",
        with_changes(SITE_EXAMPLE, available_until="2030-05-31"), reads=("available_from", "min_term_years"),
    ),
    CrossFieldRule(
        "garantiekavel_details_required", "A plot of kind garantiekavel carries its garantiekavel details (cluster_id, ...).",
        "garantiekavel", with_changes(SITE_EXAMPLE, kind="garantiekavel"), reads=("kind",),
        schema={
            "if": {"properties": {"kind": {"const": "garantiekavel"}}, "required": ["kind"]},
            "then": {"properties": {"garantiekavel": {"type": "object"}}, "required": ["garantiekavel"]},
        },
    ),
    CrossFieldRule(
        "garantiekavel_details_only_for_garantiekavel", "Only a plot of kind garantiekavel carries garantiekavel details.",
        "garantiekavel", with_changes(SITE_EXAMPLE, garantiekavel=_GARANTIEKAVEL), reads=("kind",),
        schema={
            "if": {"properties": {"garantiekavel": {"type": "object"}}, "required": ["garantiekavel"]},
            "then": {"properties": {"kind": {"const": "garantiekavel"}}, "required": ["kind"]},
        },
    ),
    CrossFieldRule(
        "tijdelijk_bbl_needs_temporary_regime", "allows_tijdelijk_bbl: true needs a temporary permit regime "
        "(not expected_instrument permanent).", "allows_tijdelijk_bbl",
        with_changes(SITE_EXAMPLE, expected_instrument="permanent", allows_tijdelijk_bbl=True), reads=("expected_instrument",),
        schema={
            "not": {
                "properties": {"allows_tijdelijk_bbl": {"const": True}, "expected_instrument": {"const": "permanent"}},
                "required": ["allows_tijdelijk_bbl", "expected_instrument"],
            }
        },
    ),
    CrossFieldRule(
        "promised_within_capacity", "promised_units is at most capacity_units.", "promised_units",
        with_changes(SITE_EXAMPLE, promised_units=60), reads=("capacity_units",),
    ),
    CrossFieldRule(
        "social_rent_flags_agree", "social_rent_only: true and allows_social_rent: false contradict each other.",
        "allows_social_rent", with_changes(SITE_EXAMPLE, social_rent_only=True, allows_social_rent=False), reads=("social_rent_only",),
        schema={
            "not": {
                "properties": {"social_rent_only": {"const": True}, "allows_social_rent": {"const": False}},
                "required": ["social_rent_only", "allows_social_rent"],
            }
        },
    ),
    CrossFieldRule(
        "exclusions_are_hard", "exclusions holds only hard PBL exclusions; geluid and water_risk go in site_factors.",
        "exclusions.0", with_changes(SITE_EXAMPLE, exclusions=["geluid"]), reads=("site_factors",),
    ),
]


def _as_patch(body: dict[str, Any]) -> dict[str, Any]:
    """The PATCH that turns the plot of SITE_EXAMPLE into `body`."""
    return {k: v for k, v in body.items() if SITE_EXAMPLE.get(k) != v}


# A PATCH is checked on the plot as it would be after the change: the same rules, as changes to SITE_EXAMPLE.
PLOT_UPDATE_RULES = [dataclasses.replace(r, violating=_as_patch(r.violating), schema=None) for r in PLOT_RULES]


class SiteCreate(SiteFields):
    """Publish a plot (or save it as a draft)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=documented(PLOT_RULES, [SITE_EXAMPLE]))

    gemeente_code: GemeenteCode
    status: Literal["draft", "published"] = "published"


class SiteUpdate(StrictModel):
    """Partial update: only the fields given change. `status: published` publishes a draft.

    Fields typed without null cannot be cleared (an explicit null is invalid input); the
    nullable ones (boundary, area_ha, available_until, distances, garantiekavel) can.
    """

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra=documented(
            PLOT_UPDATE_RULES, [{"capacity_units": 60, "readiness": {"bouwrijp": True}}, {"status": "published"}]
        ),
    )

    status: Literal["draft", "published"] = None
    name: str = Field(default=None, min_length=1, max_length=200)
    kind: SiteKind = None
    location: LocationIn = None
    boundary: Boundary = None
    area_ha: float | None = Field(default=None, gt=0, le=10_000)
    capacity_units: int = Field(default=None, gt=0, le=10_000)
    promised_units: int = Field(default=None, ge=0, le=10_000, description=PROMISED_UNITS)
    available_from: Day = None
    available_until: Day | None = None
    expected_instrument: PermitInstrument = None
    min_term_years: float = Field(default=None, ge=0, le=75)
    max_layers: int = Field(default=None, ge=1, le=6)
    allows_tijdelijk_bbl: bool | None = None
    allows_permanent: bool = Field(default=None, description=ALLOWS_PERMANENT)
    doelgroep_restrictions: list[Doelgroep] = Field(default=None, max_length=20)
    social_rent_only: bool = Field(default=None, description=SOCIAL_RENT_ONLY)
    allows_social_rent: bool = Field(default=None, description=ALLOWS_SOCIAL_RENT)
    readiness: Readiness = None
    exclusions: list[HardExclusion] = Field(default=None, max_length=10, description=EXCLUSIONS)
    site_factors: list[SiteFactor] = Field(default=None, max_length=10, description=SITE_FACTORS)
    dist_ov_m: float | None = Field(default=None, ge=0, le=100_000)
    dist_shops_m: float | None = Field(default=None, ge=0, le=100_000)
    garantiekavel: GarantiekavelIn | None = None


class Garantiekavel(BaseModel):
    cluster_id: str
    vaste_kern_units: int = Field(description=VASTE_KERN)
    reserved_until: dt.date | None
    location_may_shift: bool


class Site(BaseModel):
    """A plot (kavel) as the API shows it."""

    id: uuid.UUID
    status: SiteStatus
    version: int = Field(description="Bumped by every change, reservations included.")
    gemeente_code: str = Field(examples=["GM0772"])
    province_code: str = Field(examples=["PV30"])
    name: str
    kind: SiteKind
    location: Location
    boundary: BoundaryGeometry | None = Field(
        description="The plot's boundary in the CRS of the response (`Content-Crs`; ask with `Accept-Crs`)."
    )
    area_ha: float | None
    capacity_units: int
    reserved_units: int = Field(description="Homes reserved by agreed proposals.")
    promised_units: int = Field(description=PROMISED_UNITS)
    free_units: int = Field(description="capacity_units - reserved_units - promised_units.")
    available_from: dt.date
    available_until: dt.date | None
    expected_instrument: PermitInstrument
    max_term_years: int | None = Field(description="The regime's statutory maximum term (null: none).")
    min_term_years: float
    max_layers: int
    allows_tijdelijk_bbl: bool
    allows_permanent: bool = Field(description=ALLOWS_PERMANENT)
    doelgroep_restrictions: list[Doelgroep]
    social_rent_only: bool = Field(description=SOCIAL_RENT_ONLY)
    allows_social_rent: bool = Field(description=ALLOWS_SOCIAL_RENT)
    readiness: Readiness
    exclusions: list[ExclusionFlag] = Field(description=EXCLUSIONS)
    site_factors: list[SiteFactor] = Field(description=SITE_FACTORS)
    dist_ov_m: float | None
    dist_shops_m: float | None
    garantiekavel: Garantiekavel | None
    created_at: dt.datetime
    updated_at: dt.datetime
    distance_km: float | None = Field(default=None, description="Distance from (nearLat, nearLon) when given.")


class SiteFeatureProperties(BaseModel):
    site_id: uuid.UUID
    name: str = Field(examples=["Kavel Strijp-Noord"])
    kind: str = Field(examples=["municipal"])
    gemeente_code: str = Field(examples=["GM0772"])
    capacity_units: int = Field(examples=[48])
    free_units: int = Field(examples=[48])
    available_from: dt.date = Field(examples=["2027-06-01"])
    available_until: dt.date | None = Field(examples=["2039-05-31"])
    status: str = Field(examples=["published"])


class SiteFeature(BaseModel):
    type: Literal["Feature"] = "Feature"
    geometry: Geometry
    properties: SiteFeatureProperties


class SiteFeatureCollection(BaseModel):
    """Plots on a map: a Point per plot, or its boundary Polygon when one was given."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "type": "FeatureCollection",
                    "features": [
                        {
                            "type": "Feature",
                            "geometry": {"type": "Point", "coordinates": [5.4697, 51.4416]},
                            "properties": {
                                "site_id": "0b9b6a3e-8d0c-4a8e-9f43-0f2b1c7d5e11",
                                "name": "Kavel Strijp-Noord",
                                "kind": "municipal",
                                "gemeente_code": "GM0772",
                                "capacity_units": 48,
                                "free_units": 48,
                                "available_from": "2027-06-01",
                                "available_until": "2039-05-31",
                                "status": "published",
                            },
                        }
                    ],
                }
            ]
        }
    )

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[SiteFeature]


class SitePage(Page[Site]):
    """A page of plots."""
