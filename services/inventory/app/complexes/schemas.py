"""API shapes of complexes, units and valuations."""

from __future__ import annotations

import datetime as dt
import enum
import uuid

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import BblLevel, Doelgroep, Typology, UnitStatus
from shared.web.limits import Day
from shared.web.rules import CrossFieldRule, documented, with_changes

RTHF_MAX_RENT_EUR_MONTH = 808.06  # liberalisatiegrens 2023, the RTHF social-rent ceiling


class EnergyLabel(str, enum.Enum):
    a4 = "A++++"
    a3 = "A+++"
    a2 = "A++"
    a1 = "A+"
    a = "A"
    b = "B"
    c = "C"
    d = "D"
    e = "E"
    f = "F"
    g = "G"


class RthfIn(BaseModel):
    """RTHF guarantee (financiële herplaatsingsgarantie): the beschikking and the garantiebedrag per home."""

    model_config = ConfigDict(extra="forbid")

    beschikking_id: str = Field(min_length=1, max_length=100, examples=["RTHF-2024-00123"])
    garantiebedrag_eur_per_unit: float = Field(gt=0, le=250_000, examples=[62_000])
    gemeente_beschikking_id: str | None = Field(default=None, max_length=100)


class SftIn(BaseModel):
    """SFT subsidy: the homes stay social rent (30% reserved) until this date."""

    model_config = ConfigDict(extra="forbid")

    social_rent_until: Day = Field(examples=["2035-06-30"])
    reserved_share: float = Field(default=0.3, ge=0, le=1)


COMPLEX_EXAMPLE = {
    "investor_org": "woonstede",
    "name": "RVB kavel 17 - Ede",
    "short_code": "RVB17",
    "supplier": "De Meeuw",
    "unit_count": 48,
    "typology": "gestapeld",
    "layers": 3,
    "floor_area_m2": 38,
    "bedrooms": 1,
    "modules_per_unit": 1.0,
    "bbl_level": "nieuwbouw",
    "composition_changed": False,
    "beng_compliant": True,
    "energy_label": "A+++",
    "build_year": 2023,
    "technical_lifetime_yr": 50,
    "depreciation_yr": 30,
    "build_cost_eur_per_unit": 120_000,
    "doelgroepen": ["starters", "statushouders"],
    "rthf": {"beschikking_id": "RTHF-2024-00123", "garantiebedrag_eur_per_unit": 62_000},
    "min_group_size": 12,
    "rent_eur_month": 640.0,
}


_RTHF = COMPLEX_EXAMPLE["rthf"]
_WITH_RTHF = {"properties": {"rthf": {"type": "object"}}, "required": ["rthf"]}
# Every rule that spans fields or depends on the caller; the field-level ranges are in the schema itself.
COMPLEX_RULES = [
    CrossFieldRule(
        "investor_org_given_by_marktmeester", "The marktmeester registers on behalf of an organisation: investor_org is required.",
        "investor_org", with_changes(COMPLEX_EXAMPLE, investor_org=...), caller="marktmeester",
    ),
    CrossFieldRule(
        "investor_org_is_own", "An investor registers complexes for its own organisation only (investor_org absent or its own).",
        "investor_org", with_changes(COMPLEX_EXAMPLE, investor_org="another-investor"), caller="investor",
    ),
    CrossFieldRule(
        "min_group_within_unit_count", "min_group_size is at most unit_count.", "min_group_size",
        with_changes(COMPLEX_EXAMPLE, min_group_size=60), reads=("unit_count",),
    ),
    CrossFieldRule(
        "build_year_not_far_ahead", "build_year is at most three years after today (the inventory's clock).", "build_year",
        with_changes(COMPLEX_EXAMPLE, build_year=2100),
    ),
    CrossFieldRule(
        "rthf_rent_required", "With an RTHF guarantee rent_eur_month is required (social rent), unless doelgroepen holds "
        "ontheemden.", "rent_eur_month", with_changes(COMPLEX_EXAMPLE, rent_eur_month=...), reads=("rthf", "doelgroepen"),
        schema={
            "if": {
                "properties": {"rthf": {"type": "object"}, "doelgroepen": {"not": {"contains": {"const": "ontheemden"}}}},
                "required": ["rthf"],
            },
            "then": {"properties": {"rent_eur_month": {"type": "number"}}, "required": ["rent_eur_month"]},
        },
    ),
    CrossFieldRule(
        "rthf_rent_ceiling", f"With an RTHF guarantee rent_eur_month is at most the liberalisatiegrens ({RTHF_MAX_RENT_EUR_MONTH}).",
        "rent_eur_month", with_changes(COMPLEX_EXAMPLE, rent_eur_month=900.0), reads=("rthf",),
        schema={"if": _WITH_RTHF, "then": {"properties": {"rent_eur_month": {"maximum": RTHF_MAX_RENT_EUR_MONTH}}}},
    ),
    CrossFieldRule(
        "rthf_zelfstandig", "RTHF homes are self-contained (zelfstandig: true).", "zelfstandig",
        with_changes(COMPLEX_EXAMPLE, zelfstandig=False), reads=("rthf",),
        schema={"if": _WITH_RTHF, "then": {"properties": {"zelfstandig": {"const": True}}}},
    ),
    CrossFieldRule(
        "rthf_beng", "RTHF homes are bijna energieneutraal (beng_compliant: true).", "beng_compliant",
        with_changes(COMPLEX_EXAMPLE, beng_compliant=False), reads=("rthf",),
        schema={"if": _WITH_RTHF, "then": {"properties": {"beng_compliant": {"const": True}}}},
    ),
    CrossFieldRule(
        "rthf_garantie_within_build_cost", "The RTHF garantiebedrag is at most build_cost_eur_per_unit.",
        "rthf.garantiebedrag_eur_per_unit",
        with_changes(COMPLEX_EXAMPLE, rthf={**_RTHF, "garantiebedrag_eur_per_unit": 130_000}), reads=("build_cost_eur_per_unit",),
    ),
    CrossFieldRule(
        "sft_after_build_year", "The SFT social-rent term does not end before the build year.", "sft.social_rent_until",
        with_changes(COMPLEX_EXAMPLE, sft={"social_rent_until": "2020-12-31"}), reads=("build_year",),
    ),
]


class ComplexCreate(BaseModel):
    """Register a complex with all its units (identical homes) in one request."""

    model_config = ConfigDict(extra="forbid", json_schema_extra=documented(COMPLEX_RULES, [COMPLEX_EXAMPLE]))

    investor_org: str | None = Field(
        default=None, min_length=1, max_length=100, description="Owner organisation; defaults to the caller's org (the marktmeester must give it)."
    )
    name: str = Field(min_length=1, max_length=200)
    short_code: str | None = Field(
        default=None, pattern=r"^[A-Z0-9]{2,12}$", description="Prefix of the unit serials (`RVB17-001`); generated when absent."
    )
    supplier: str | None = Field(default=None, max_length=200)
    unit_count: int = Field(ge=1, le=500)
    typology: Typology
    layers: int = Field(ge=1, le=4, description="Stacking layers.")
    floor_area_m2: float = Field(ge=15, le=150, description="Floor area per home.")
    bedrooms: int = Field(ge=0, le=4)
    # multipleOf in the schema; checked with the other rules in the service, so a 400 names every offending field
    modules_per_unit: float = Field(
        ge=0.5, le=4.0, description="Modules per home, in steps of 0.5.", json_schema_extra={"multipleOf": 0.5}
    )
    zelfstandig: bool = Field(default=True, description="Self-contained home (zelfstandige woonruimte).")
    bbl_level: BblLevel
    composition_changed: bool = Field(default=False, description="Composition changed since first placement (gewijzigde samenstelling).")
    rechtens_verkregen_date: Day | None = None
    beng_compliant: bool = True
    energy_label: EnergyLabel | None = None
    build_year: int | None = Field(default=None, ge=1950, le=2100)
    technical_lifetime_yr: int = Field(default=50, ge=25, le=75)
    depreciation_yr: int = Field(default=25, ge=10, le=50)
    build_cost_eur_per_unit: float | None = Field(default=None, ge=20_000, le=250_000, description="Stichtingskosten per home.")
    rent_eur_month: float | None = Field(default=None, ge=0, le=5_000)
    min_group_size: int = Field(default=1, ge=1, le=500, description="Smallest group the complex may be split into.")
    doelgroepen: list[Doelgroep] = Field(default_factory=list, max_length=len(Doelgroep))
    rthf: RthfIn | None = None
    sft: SftIn | None = None


class ComplexOut(BaseModel):
    model_config = ConfigDict(from_attributes=True, json_schema_extra={"examples": [{**COMPLEX_EXAMPLE, "id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11", "created_at": "2026-11-23T10:00:00Z"}]})

    id: uuid.UUID
    investor_org: str
    name: str
    short_code: str
    supplier: str | None
    unit_count: int
    typology: Typology
    layers: int
    floor_area_m2: float
    bedrooms: int
    modules_per_unit: float
    zelfstandig: bool
    bbl_level: BblLevel
    composition_changed: bool
    rechtens_verkregen_date: dt.date | None
    beng_compliant: bool
    energy_label: str | None
    build_year: int | None
    technical_lifetime_yr: int
    depreciation_yr: int
    build_cost_eur_per_unit: float | None
    rent_eur_month: float | None
    min_group_size: int
    doelgroepen: list[Doelgroep]
    rthf: RthfIn | None
    sft: SftIn | None
    created_at: dt.datetime


class UnitOut(BaseModel):
    """One home of a complex."""

    model_config = ConfigDict(
        from_attributes=True,
        json_schema_extra={"examples": [{"id": "5d1f0b1e-7c1b-4f0e-8d55-5b1f4d1e0a01", "complex_id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11", "serial": "RVB17-001", "seq": 1, "status": "in_use"}]},
    )

    id: uuid.UUID
    complex_id: uuid.UUID
    serial: str
    seq: int
    status: UnitStatus


class RthfClaim(BaseModel):
    """RTHF payout when no follow-up plot is found and the homes sell below the garantiebedrag."""

    applies: bool = Field(description="True when no relocation is scheduled for the current placement (the fallback applies).")
    units: int
    sale_eur_per_unit: float
    garantiebedrag_eur_per_unit: float
    gap_eur_per_unit: float
    gap_eur_total: float
    rijk_eur: float = Field(description="60% of the gap.")
    gemeente_eur: float = Field(description="25% of the gap (the gemeente's co-beschikking).")
    investor_eur: float = Field(description="15% of the gap, borne by the investor.")


class Valuation(BaseModel):
    """Remaining technical life, book value and the RTHF claim of a complex."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "complex_id": "0b8e3c1e-3f7a-4c55-9a57-1f0f5f9d2a11",
                    "valuation_date": "2033-04-23",
                    "units": 48,
                    "age_years": 10.3,
                    "remaining_technical_life_years": 39.7,
                    "depreciation_start_date": "2023-01-01",
                    "book_value_eur_per_unit": 78_800.0,
                    "book_value_eur_total": 3_782_400.0,
                    "follow_up_scheduled": False,
                    "rthf_claim": {
                        "applies": True,
                        "units": 48,
                        "sale_eur_per_unit": 40_000,
                        "garantiebedrag_eur_per_unit": 62_000,
                        "gap_eur_per_unit": 22_000,
                        "gap_eur_total": 1_056_000,
                        "rijk_eur": 633_600,
                        "gemeente_eur": 264_000,
                        "investor_eur": 158_400,
                    },
                }
            ]
        }
    )

    complex_id: uuid.UUID
    valuation_date: dt.date
    units: int = Field(description="Homes still owned (not sold or dismantled).")
    age_years: float
    remaining_technical_life_years: float
    depreciation_start_date: dt.date
    book_value_eur_per_unit: float | None = Field(description="Straight-line book value; null without a build cost.")
    book_value_eur_total: float | None
    follow_up_scheduled: bool
    rthf_claim: RthfClaim | None = Field(description="Null when the complex has no RTHF guarantee.")
