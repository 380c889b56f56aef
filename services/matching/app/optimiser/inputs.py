"""The optimiser's inputs: the weights and rule parameters, the demands and the plots (plain dataclasses)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.domain import BblLevel, Doelgroep, PermitInstrument, SiteKind


@dataclass(frozen=True)
class Weights:
    """Objective weights and rule parameters (from the current matching policy version, see app/policy)."""

    road_factor: float = 1.3
    transport_eur_per_unit_km: float = 4.0
    # Every extra plot a complex is spread over is a separate building site: crane and transport
    # mobilisation (~EUR 10k), a site-specific ground survey and foundation design (~EUR 8k), its own
    # omgevingsvergunning procedure and legal work (~EUR 7k) and project management / coordination
    # with one more gemeente and utility companies (~EUR 10k): about EUR 35k per extra plot.
    split_fixed_eur: float = 35_000.0
    storage_eur_per_unit_month: float = 250.0
    relocation_cost_eur_per_unit: float = 30_000.0
    site_prep_share: float = 0.50  # not bouwrijp: site preparation ~50% of relocation cost
    connection_share: float = 0.15  # utilities missing: connections ~15%
    # Each piece of a complex below its minimum group size (beyond the one allowed remainder):
    # a strong penalty, not a hard rule, so no home is left unhoused for it.
    min_group_penalty_eur: float = 60_000.0
    # Soft site factors (geluid, water_risk): a plot that carries one stays usable but costs more per
    # home: noise means sound-insulating facades and a hogere-waardenbesluit (~EUR 1.5k a home);
    # water en bodem sturend means a raised floor or the risk of leaving early (~EUR 1.5k a home).
    # Small beside site preparation (EUR 15k), so it only breaks ties between otherwise equal plots.
    site_factor_eur_per_unit: float = 1_500.0
    # Keeping groups together comes before the ladder: the fewest pieces below a complex's minimum
    # group size (among plans housing the most homes) is a priority of its own, exact, above the
    # ladder rung. False: those pieces only pay the penalty above (the earlier behaviour).
    min_group_before_ladder: bool = True
    # The herplaatsingsladder is a priority, not a cost: every rung climbed costs a home this many
    # priority points, more than the largest per-home EUR difference (readiness <= EUR 19.5k,
    # site factors <= EUR 3k, storage <= EUR 1.5k, transport <= ~EUR 2k, a 1-home piece's split + min-group penalty
    # <= EUR 95k), so a lower rung always wins. Never counted as EUR cost.
    ladder_step_per_unit: float = 200_000.0
    garantiekavel_penalty_per_unit: float = 5_000_000.0  # backstop: above every rung
    max_storage_gap_months: int = 6
    # capped per plot by its permit regime's maximum term (rules.py, time_window_term)
    min_follow_up_years: float = 10.0
    region_radius_km: float = 30.0
    allow_garantiekavel_override: bool = False


@dataclass(frozen=True)
class Demand:
    """The homes of one expiring placement (relocation demand); all of one complex."""

    key: str
    units: int
    lat: float
    lon: float
    gemeente_code: str
    province_code: str
    end_date: dt.date
    storage_until: dt.date | None = None  # inventory's end of the storage period, once the term ended into storage
    bbl_level: BblLevel = BblLevel.nieuwbouw
    composition_changed: bool = False
    layers: int = 1
    doelgroepen: frozenset[Doelgroep] = frozenset()
    social_rent: bool = False  # RTHF, or SFT social rent still running at the end date
    min_group_size: int = 1
    excluded_plots: frozenset[str] = frozenset()  # e.g. plots of a municipality that declined


@dataclass(frozen=True)
class Plot:
    """A plot (kavel) with its free capacity net of reservations and of open proposals."""

    key: str
    free_units: int
    lat: float
    lon: float
    gemeente_code: str
    province_code: str
    available_from: dt.date
    available_until: dt.date | None = None
    kind: SiteKind = SiteKind.municipal
    expected_instrument: PermitInstrument = PermitInstrument.ow_bopa
    max_layers: int = 4
    allows_tijdelijk_bbl: bool = True
    allows_permanent: bool = False
    doelgroep_restrictions: frozenset[Doelgroep] = frozenset()
    social_rent_only: bool = False
    allows_social_rent: bool = True  # False: no RTHF/SFT homes (they must stay social rent)
    bouwrijp: bool = True
    utilities_complete: bool = True
    exclusions: frozenset[str] = frozenset()  # hard PBL exclusions: the plot is never used
    site_factors: frozenset[str] = frozenset()  # soft factors (geluid, water_risk): a cost per home
