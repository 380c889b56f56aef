"""The event contract: one pydantic model per subject (DESIGN.md "Event contract").

Payloads are self-contained: a consumer builds its read model from them without
calling the producer. Fields may grow; consumers ignore what they do not know.
"""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from shared.domain import (
    BblLevel,
    Doelgroep,
    EndState,
    ExclusionFlag,
    LadderRung,
    PermitInstrument,
    Role,
    SiteFactor,
    SiteKind,
    Typology,
)


class EventData(BaseModel):
    model_config = ConfigDict(extra="ignore", use_enum_values=False)


# ----------------------------------------------------------------- inventory


class RthfSubsidy(EventData):
    """RTHF guarantee (financiële herplaatsingsgarantie) on a complex."""

    beschikking_id: str
    garantiebedrag_eur_per_unit: float = Field(ge=0)
    gemeente_beschikking_id: str | None = None


class SftSubsidy(EventData):
    """SFT subsidy: social rent (and a 30% reservation) until a date."""

    social_rent_until: dt.date
    reserved_share: float = 0.3


class ComplexSpec(EventData):
    """A complex: a batch of identical relocatable homes (e.g. an RVB lot of 48)."""

    complex_id: uuid.UUID
    investor_org: str
    name: str
    supplier: str | None = None
    unit_count: int
    typology: Typology
    layers: int
    floor_area_m2: float
    bedrooms: int
    modules_per_unit: float
    bbl_level: BblLevel
    composition_changed: bool = False
    beng_compliant: bool = True
    energy_label: str | None = None
    build_year: int | None = None
    technical_lifetime_yr: int = 50
    depreciation_yr: int = 25
    build_cost_eur_per_unit: float | None = None
    doelgroepen: list[Doelgroep] = Field(default_factory=list)
    rthf: RthfSubsidy | None = None
    sft: SftSubsidy | None = None
    min_group_size: int = 1
    short_code: str | None = None  # prefix of the unit serials (`RVB17-001`)
    zelfstandig: bool = True
    rechtens_verkregen_date: dt.date | None = None
    rent_eur_month: float | None = None


class ComplexRegistered(ComplexSpec):
    unit_ids: list[uuid.UUID] = Field(default_factory=list, description="The homes registered with the complex "
                                      "(the home ledger counts them before any placement); empty in older events.")


class PlacementCreated(EventData):
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_ids: list[uuid.UUID]
    site_id: uuid.UUID | None = None
    gemeente_code: str
    lat: float
    lon: float
    instrument: PermitInstrument
    permit_reference: str | None = None
    start_date: dt.date
    end_date: dt.date
    sequence_no: int = 1
    province_code: str | None = None
    relocation_id: uuid.UUID | None = None  # set on a follow-up placement created by a relocation plan


class PlacementExpiring(EventData):
    """A placement whose permit term ends within the horizon: relocation demand."""

    placement_id: uuid.UUID
    complex: ComplexSpec
    unit_ids: list[uuid.UUID]
    site_id: uuid.UUID | None = None
    gemeente_code: str
    province_code: str | None = None
    lat: float
    lon: float
    instrument: PermitInstrument
    start_date: dt.date
    end_date: dt.date
    sequence_no: int = 1
    detected_on: dt.date


class PlacementEnded(EventData):
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    end_date: dt.date
    relocated: bool
    unit_count: int
    # Not relocated: the homes go into storage (opslag) and stay demand until `storage_until`
    # (end + the policy's longest storage period); after that the RTHF fallback applies.
    unit_ids: list[uuid.UUID] = Field(default_factory=list)
    storage_until: dt.date | None = None


class RelocatedAllocation(EventData):
    site_id: uuid.UUID
    gemeente_code: str
    unit_ids: list[uuid.UUID]
    new_placement_id: uuid.UUID


class RelocationScheduled(EventData):
    """The relocation plan (herplaatsingsplan) recorded after capacity was reserved."""

    relocation_id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    move_window_start: dt.date
    move_window_end: dt.date
    allocations: list[RelocatedAllocation]


class ClockSet(EventData):
    """The product's one "today" moved (inventory owns the clock; every service follows this event)."""

    today: dt.date
    offset_days: int  # today - the real (or pinned) date
    set_by: str | None = None
    # Grows by one with every change: a follower applies a ClockSet only when it is newer than the
    # one it holds, so a redelivered old event never moves the clock back.
    version: int | None = None


class PlacementUpdated(EventData):
    """The investor changed a placement's term (e.g. stayed by extension: a later end date)."""

    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_ids: list[uuid.UUID]
    gemeente_code: str
    instrument: PermitInstrument
    start_date: dt.date
    end_date: dt.date
    previous_end_date: dt.date
    permit_reference: str | None = None


class PlacementStarted(EventData):
    """A follow-up placement became active (today >= its start): its homes have moved."""

    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_ids: list[uuid.UUID]
    gemeente_code: str
    start_date: dt.date
    relocation_id: uuid.UUID | None = None


class FallbackClaim(EventData):
    """RTHF terugvaloptie: the sale value against the guaranteed amount; the gap split 60/25/15."""

    valuation_eur: float  # expected sale value of the homes
    guaranteed_eur: float  # RTHF garantiebedrag x homes (0 without an RTHF guarantee)
    gap_eur: float  # max(0, guaranteed - valuation)
    rijk_eur: float  # 60% of the gap
    gemeente_eur: float  # 25%
    investor_eur: float  # 15%


class PlacementFallback(EventData):
    """The longest allowed storage period passed without a plot: the homes are offered for sale."""

    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_ids: list[uuid.UUID]
    gemeente_code: str
    storage_since: dt.date
    claim: FallbackClaim


class PlacementClosed(EventData):
    """The investor chose an end state: the homes leave the books (the only way out)."""

    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_ids: list[uuid.UUID]
    gemeente_code: str
    end_state: EndState
    closed_on: dt.date
    reason: str | None = None


class RelocationRefused(EventData):
    """Inventory refused a confirmed reservation on a business rule: compensate (release, re-propose)."""

    reservation_id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    reason: str


# ----------------------------------------------------------------- sites


class Readiness(EventData):
    """Plot readiness: bouwrijp and utilities (site work is ~50% of relocation cost)."""

    bouwrijp: bool = False
    water: bool = False
    electricity: bool = False
    sewer: bool = False
    heat: bool = False


class GarantiekavelInfo(EventData):
    cluster_id: str
    vaste_kern_units: int = 0
    reserved_until: dt.date | None = None
    location_may_shift: bool = False


class SiteSnapshot(EventData):
    """Everything matching needs about a plot (kavel)."""

    site_id: uuid.UUID
    version: int
    status: Literal["draft", "published", "withdrawn"]
    gemeente_code: str
    province_code: str
    name: str
    kind: SiteKind
    lat: float
    lon: float
    capacity_units: int
    reserved_units: int = 0
    promised_units: int = Field(default=0, description="Homes the municipality already promised outside the market; free = capacity - reserved - promised.")
    available_from: dt.date
    available_until: dt.date | None = None
    expected_instrument: PermitInstrument
    min_term_years: float = 0
    max_layers: int
    allows_tijdelijk_bbl: bool
    allows_permanent: bool
    doelgroep_restrictions: list[Doelgroep] = Field(default_factory=list)
    social_rent_only: bool = False
    allows_social_rent: bool = Field(default=True, description="False: RTHF/SFT homes (which must stay social rent) may not stand here.")
    readiness: Readiness = Field(default_factory=Readiness)
    exclusions: list[ExclusionFlag | SiteFactor] = Field(
        default_factory=list,
        description="Hard PBL exclusions. geluid/water_risk appear here only in events from before API 1.2: read them as site_factors.",
    )
    site_factors: list[SiteFactor] = Field(default_factory=list, description="Soft site factors: usable, at a small cost per home.")
    dist_ov_m: float | None = None
    dist_shops_m: float | None = None
    garantiekavel: GarantiekavelInfo | None = None


class SitePublished(SiteSnapshot):
    pass


class SiteUpdated(SiteSnapshot):
    pass


class SiteWithdrawn(EventData):
    site_id: uuid.UUID
    version: int
    gemeente_code: str


class ReservedSite(EventData):
    site_id: uuid.UUID
    gemeente_code: str
    units: int
    capacity_units: int
    reserved_units: int  # after this reservation
    available_from: dt.date
    available_until: dt.date | None = None
    expected_instrument: PermitInstrument
    lat: float
    lon: float


class ReservationConfirmed(EventData):
    reservation_id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    sites: list[ReservedSite]


class ShortSite(EventData):
    site_id: uuid.UUID
    requested_units: int
    free_units: int


class ReservationRejected(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    reason: str
    short_sites: list[ShortSite] = Field(default_factory=list)


class ReleasedSite(EventData):
    site_id: uuid.UUID
    units: int
    reserved_units: int  # after the release


class ReservationReleased(EventData):
    reservation_id: uuid.UUID
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    sites: list[ReleasedSite]
    reason: str | None = None  # e.g. "relocation_refused: ..." (a compensation)


# ----------------------------------------------------------------- matching


class ProposalAllocation(EventData):
    site_id: uuid.UUID
    gemeente_code: str
    units: int
    distance_km: float
    rung: LadderRung


class CostBreakdown(EventData):
    """Per-term cost of a proposal, in the objective's units (weights applied)."""

    # One type for the optimiser, the event and the API's stored dict: the code and the API call the
    # ladder term `ladder`; the event's wire name stays `preference` (its alias, read and written).
    model_config = ConfigDict(validate_by_name=True, validate_by_alias=True, serialize_by_alias=True)

    transport_unit_km: float
    transport: float
    splits: int
    split: float
    storage_months: float
    storage: float
    readiness: float
    min_group_violations: int = 0  # pieces below the complex's min group size beyond its one remainder
    min_group: float = 0.0  # EUR penalty for those pieces
    site_factors: float = 0.0  # EUR: soft site factors (geluid, water_risk) per home on the plot
    ladder: float = Field(default=0.0, alias="preference")  # herplaatsingsladder priority points (not EUR, not in total)
    total: float  # EUR: transport + split + storage + readiness + site_factors + min_group


class Party(EventData):
    role: Role
    org: str


class ProposalCreated(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    unit_count: int
    allocations: list[ProposalAllocation]
    rung: LadderRung
    cost: CostBreakdown
    binding_constraints: list[str] = Field(default_factory=list)
    alternatives: list[dict] = Field(default_factory=list)
    # the nearest plots the plan does not use, each with its reasons (rule names, full, ladder, split, cost)
    passed_over: list[dict] = Field(default_factory=list)
    parties: list[Party]
    expires_at: dt.datetime
    shortfall_units: int = 0
    move_window_start: dt.date
    policy_version: int | None = None  # the matching policy version the proposal was made under


class ProposalAccepted(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    complex_id: uuid.UUID
    investor_org: str
    allocations: list[ProposalAllocation]
    move_window_start: dt.date
    parties: list[Party]


class ProposalDeclined(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    declined_by: Party
    reason: str | None = None


class ProposalExpired(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID


class ProposalWithdrawn(EventData):
    proposal_id: uuid.UUID
    placement_id: uuid.UUID
    reason: str
    allocations: list[ProposalAllocation] = Field(default_factory=list)


class PolicyChanged(EventData):
    """The marktmeester set a new version of the matching policy (rule parameters and weights).

    `parameters` holds the whole policy of that version (names as in GET /matching/policy);
    inventory follows `horizon_months` for its expiry signal.
    """

    version: int
    set_by: str
    set_at: dt.datetime
    parameters: dict[str, float | int | bool | str]


# ----------------------------------------------------------------- registry

EVENT_TYPES: dict[str, type[EventData]] = {
    "inventory.complex.registered": ComplexRegistered,
    "inventory.placement.created": PlacementCreated,
    "inventory.placement.expiring": PlacementExpiring,
    "inventory.placement.ended": PlacementEnded,
    "inventory.relocation.scheduled": RelocationScheduled,
    "inventory.relocation.refused": RelocationRefused,
    "inventory.placement.updated": PlacementUpdated,
    "inventory.placement.started": PlacementStarted,
    "inventory.placement.fallback": PlacementFallback,
    "inventory.placement.closed": PlacementClosed,
    "inventory.clock.set": ClockSet,
    "sites.site.published": SitePublished,
    "sites.site.updated": SiteUpdated,
    "sites.site.withdrawn": SiteWithdrawn,
    "sites.reservation.confirmed": ReservationConfirmed,
    "sites.reservation.rejected": ReservationRejected,
    "sites.reservation.released": ReservationReleased,
    "matching.proposal.created": ProposalCreated,
    "matching.proposal.accepted": ProposalAccepted,
    "matching.proposal.declined": ProposalDeclined,
    "matching.proposal.expired": ProposalExpired,
    "matching.proposal.withdrawn": ProposalWithdrawn,
    "matching.policy.changed": PolicyChanged,
}


def producer_of(event_type: str) -> str:
    return event_type.split(".", 1)[0]


# The first segment of a subject is its producer; the stream carries `<producer>.>` for each.
PRODUCERS: tuple[str, ...] = tuple(dict.fromkeys(producer_of(t) for t in EVENT_TYPES))
