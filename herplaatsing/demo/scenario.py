"""The national demo scenario as plain data: the requests a loader sends, nothing else.

Built from the figures in DOMAIN.md (pure, deterministic for a seed, scale and anchor year):
- the five garantiekavel municipalities (§2): 1,360 single-home spots in clusters of about
  50 (Apeldoorn 200 and Doetinchem 200 per [SZ3], the other 960 split over Dronten, Enschede
  and Goes), kept until 2045;
- the RVB bulk purchase (§6): 42 lots of 48 homes, 3 layers, Bbl tijdelijk, placed in 2023
  by the gemeenten that bought them;
- the yearly realisations 2017-2024 (§6) in complexes of 20-120 homes owned by
  woningcorporaties, beleggers and gemeenten, placed on 5-15 year terms on the centroid
  of a gemeente in the owner's province (plus jitter);
- municipal and private plots in all 12 provinces, weighted towards where homes stand,
  with realistic windows, permit regimes, readiness and a few hard exclusions.

`scale` multiplies every count (1.0 = the full figures, about 30,000 homes). Dates are
fixed or derived from `anchor` (1 January of the system's current year), so the same
seed, scale and year always give byte-identical requests: that is what lets a second
load replay every Idempotency-Key instead of creating anything twice.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from shared.clock import add_months
from shared.domain import MAX_TERM_YEARS, SOFT_AS_EXCLUSION, PermitInstrument
from shared.demo_parties import BELEGGERS, CORPORATIES, GARANTIEKAVEL_SPOTS, GARANTIEKAVEL_VASTE_KERN_HOMES
from shared.reference import Municipality, municipalities, point_near_centroid, provinces

DEFAULT_SEED = 2026
DEFAULT_SCALE = 0.5  # about 15,000 homes: loads in well under two minutes on a laptop

# §6 realised relocatable homes per year. 2019 has no figure: interpolated between 2018
# (~3,000) and 2020 ("ruim 5,000"). 2023's ~5,100 includes the 2,016 RVB homes, built separately.
REALISED_PER_YEAR: dict[int, int] = {2017: 1200, 2018: 3000, 2019: 4000, 2020: 5000, 2021: 1840, 2022: 3400, 2023: 5100, 2024: 6478}
RVB_LOTS, RVB_LOT_SIZE, RVB_YEAR = 42, 48, 2023

GARANTIEKAVEL_CLUSTER = 50
GARANTIEKAVEL_RESERVED_UNTIL = dt.date(2045, 12, 31)

MUNICIPAL_PLOTS_FULL = 420  # municipal and private plots at scale 1.0

SUPPLIERS = ["De Meeuw", "Jan Snel", "Barli", "Finch Buildings", "Homes Factory", "Ursem", "Heijmans Wonen", "Plegt-Vos", "Stamhuis"]

GEMEENTE_INVESTOR_SHARE = 0.12  # gemeenten that invest themselves (org "gem-GMxxxx")
BELEGGER_SHARE = 0.18

PLOT_REGIMES: list[tuple[PermitInstrument, float]] = [
    (PermitInstrument.wabo_bor4_11, 0.36),
    (PermitInstrument.ow_bopa, 0.22),
    (PermitInstrument.ow_plan_tijdelijk, 0.10),
    (PermitInstrument.wro_voorlopig, 0.08),
    (PermitInstrument.chw_experiment, 0.06),
    (PermitInstrument.permanent, 0.18),
]


@dataclass(frozen=True)
class SitePlan:
    """A plot a municipality publishes (POST /sites with its GMxxxx token)."""

    key: str
    gemeente_code: str
    body: dict[str, Any]


@dataclass(frozen=True)
class ComplexPlan:
    """A complex an investor registers (POST /complexes) and its first placement (POST /placements).

    `placement` is the placement body without `complex_id` (the loader adds the registered id).
    """

    key: str
    investor_org: str
    body: dict[str, Any]
    placement: dict[str, Any] | None

    @property
    def placement_key(self) -> str:
        return f"{self.key}:placement"


@dataclass(frozen=True)
class Scenario:
    seed: int
    scale: float
    anchor: dt.date
    sites: list[SitePlan] = field(default_factory=list)
    complexes: list[ComplexPlan] = field(default_factory=list)

    @property
    def homes(self) -> int:
        return sum(c.body["unit_count"] for c in self.complexes)

    @property
    def placed_homes(self) -> int:
        return sum(c.body["unit_count"] for c in self.complexes if c.placement is not None)

    @property
    def plot_capacity(self) -> int:
        return sum(s.body["capacity_units"] for s in self.sites)

    @property
    def requests(self) -> int:
        return len(self.sites) + len(self.complexes) + sum(1 for c in self.complexes if c.placement is not None)

    def describe(self) -> str:
        gk = [s for s in self.sites if s.body["kind"] == "garantiekavel"]
        provinces_with_plots = len({municipalities()[s.gemeente_code].province_code for s in self.sites})
        orgs = len({c.investor_org for c in self.complexes})
        return (
            f"scenario seed {self.seed}, scale {self.scale:g}: {len(self.sites)} plots ({len(gk)} garantiekavel clusters, "
            f"{sum(s.body['capacity_units'] for s in gk)} spots) in {provinces_with_plots} provinces, capacity {self.plot_capacity} homes; "
            f"{len(self.complexes)} complexes with {self.homes} homes of {orgs} investors, {self.placed_homes} placed"
        )


def _scaled(count: int, scale: float, minimum: int = 1) -> int:
    return max(minimum, round(count * scale))


def _weighted(rng: random.Random, options: list[tuple[Any, float]]) -> Any:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options], k=1)[0]


def _complex_size(rng: random.Random) -> int:
    """20-120 homes, most around 40-60 (typical project sizes)."""
    return int(round(rng.triangular(20, 120, 45)))


def _term(rng: random.Random, year: int) -> tuple[PermitInstrument, int]:
    """A permit regime and its term: 10-15 years mostly (DOMAIN §3), some 5-year Wro for recent cohorts."""
    if year >= 2022 and rng.random() < 0.12:
        return PermitInstrument.wro_voorlopig, 5
    instrument, years = _weighted(
        rng,
        [
            ((PermitInstrument.wabo_bor4_11, 10), 0.5),
            ((PermitInstrument.wabo_aflopend, 15), 0.2),
            ((PermitInstrument.chw_experiment, rng.choice([12, 15])), 0.1),
            ((PermitInstrument.ow_bopa, rng.choice([10, 12, 15])), 0.1 if year >= 2024 else 0.0),
            ((PermitInstrument.wabo_uitgebreid, rng.choice([10, 12, 15])), 0.1),
        ],
    )
    return instrument, years


def _placement(rng: random.Random, where: Municipality, year: int, anchor: dt.date, serial: int) -> dict[str, Any] | None:
    start = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(0, 365))
    instrument, years = _term(rng, year)
    end = add_months(start, 12 * years) - dt.timedelta(days=1)
    if end <= anchor:
        # A term that ended before this year: the homes got an extension to the regime's maximum.
        instrument, years = PermitInstrument.wabo_aflopend, 15
        end = add_months(start, 12 * years) - dt.timedelta(days=1)
        if end <= anchor:
            return None  # long gone; registered but not placed
    maximum = MAX_TERM_YEARS[instrument]
    assert maximum is None or years <= maximum
    lat, lon = point_near_centroid(rng, where.code, 2.5)
    return {
        "gemeente_code": where.code,
        "lat": lat,
        "lon": lon,
        "instrument": instrument.value,
        "permit_reference": f"OLO-{year}-{serial:05d}",
        "procedure_weeks": 26 if instrument in (PermitInstrument.wabo_uitgebreid, PermitInstrument.wabo_aflopend) else 8,
        "restore_obligation": instrument is PermitInstrument.wabo_aflopend,
        "start_date": start.isoformat(),
        "end_date": end.isoformat(),
    }


def _complex_body(rng: random.Random, org: str, name: str, short_code: str, size: int, year: int) -> dict[str, Any]:
    typology = "gestapeld" if rng.random() < 0.45 else "grondgebonden"
    layers = rng.choice([2, 3, 3, 4]) if typology == "gestapeld" else rng.choice([1, 1, 2])
    nieuwbouw = rng.random() < (0.25 if year < 2021 else 0.6)
    build_cost = rng.randrange(75_000, 125_000, 1_000)
    rent = round(rng.uniform(480, 800), 2)
    body: dict[str, Any] = {
        "investor_org": org,
        "name": name,
        "short_code": short_code,
        "supplier": rng.choice(SUPPLIERS),
        "unit_count": size,
        "typology": typology,
        "layers": layers,
        "floor_area_m2": rng.choice([25, 30, 35, 38, 40, 45, 55, 70]),
        "bedrooms": rng.choice([0, 1, 1, 1, 2]),
        "modules_per_unit": rng.choice([1.0, 1.0, 1.5]),
        "bbl_level": "nieuwbouw" if nieuwbouw else "tijdelijk",
        "beng_compliant": year >= 2021 or rng.random() < 0.5,
        "energy_label": rng.choice(["A++", "A+++", "A++++"]) if year >= 2021 else rng.choice(["A", "A+", "A++"]),
        "build_year": year,
        "technical_lifetime_yr": rng.choice([40, 50, 50, 60]),
        "depreciation_yr": rng.choice([15, 25, 30]),
        "build_cost_eur_per_unit": build_cost,
        "rent_eur_month": rent,
        "min_group_size": min(size, rng.choice([1, 1, 12, 15, 24])),
        "doelgroepen": sorted(rng.sample(["starters", "statushouders", "spoedzoekers", "studenten", "ontheemden", "arbeidsmigranten"], rng.randint(1, 3))),
    }
    if year >= 2024 and rng.random() < 0.6 and body["beng_compliant"]:
        body["rthf"] = {"beschikking_id": f"RTHF-{year}-{short_code}", "garantiebedrag_eur_per_unit": round(build_cost * 0.55)}
    if year >= 2022 and rng.random() < 0.4:
        body["sft"] = {"social_rent_until": dt.date(year + 10, 12, 31).isoformat(), "reserved_share": 0.3}
    return body


def _investors(rng: random.Random, by_province: dict[str, list[Municipality]]) -> list[tuple[str, str | None]]:
    """(org, province or None) candidates; gemeenten that invest themselves get their own province."""
    gemeente_investors = rng.sample(sorted(municipalities()), 24)
    return [(org, pv) for org, pv in CORPORATIES.items()] + [(f"gem-{code}", municipalities()[code].province_code) for code in gemeente_investors] + [
        (org, None) for org in BELEGGERS
    ]


def _pick_owner(rng: random.Random, investors: list[tuple[str, str | None]]) -> tuple[str, str | None]:
    r = rng.random()
    if r < BELEGGER_SHARE:
        pool = [i for i in investors if i[0].startswith("bl-")]
    elif r < BELEGGER_SHARE + GEMEENTE_INVESTOR_SHARE:
        pool = [i for i in investors if i[0].startswith("gem-")]
    else:
        pool = [i for i in investors if i[0].startswith("wc-")]
    return rng.choice(pool)


def build_scenario(scale: float = DEFAULT_SCALE, seed: int = DEFAULT_SEED, today: dt.date | None = None) -> Scenario:
    if not 0 < scale <= 4:
        raise ValueError("scale must be in (0, 4]")
    today = today or dt.date.today()
    anchor = dt.date(today.year, 1, 1)
    rng = random.Random(f"{seed}:{scale}:{anchor.year}")
    gemeenten = municipalities()
    by_province: dict[str, list[Municipality]] = {}
    for m in sorted(gemeenten.values(), key=lambda m: m.code):
        by_province.setdefault(m.province_code, []).append(m)
    tag = f"demo:{seed}:{scale:g}:{anchor.year}"
    scenario = Scenario(seed=seed, scale=scale, anchor=anchor)

    # -- complexes: the RVB lots, then the yearly realisations
    investors = _investors(rng, by_province)
    serial = 0
    rvb_buyers = rng.sample(sorted(gemeenten), 30)
    for lot in range(_scaled(RVB_LOTS, scale)):
        serial += 1
        code = rvb_buyers[lot % len(rvb_buyers)]
        where = gemeenten[code]
        body = {
            **_complex_body(rng, f"gem-{code}", f"RVB kavel {lot + 1} - {where.name}", f"RVB{lot + 1:02d}", RVB_LOT_SIZE, RVB_YEAR),
            "typology": "gestapeld",
            "layers": 3,
            "bbl_level": "tijdelijk",
            "supplier": SUPPLIERS[lot % len(SUPPLIERS)],
            "doelgroepen": ["ontheemden", "spoedzoekers"],
        }
        body.pop("rthf", None)
        scenario.complexes.append(ComplexPlan(f"{tag}:complex:{serial}", body["investor_org"], body, _placement(rng, where, RVB_YEAR, anchor, serial)))
    for year, homes in REALISED_PER_YEAR.items():
        target = _scaled(homes - (RVB_LOTS * RVB_LOT_SIZE if year == RVB_YEAR else 0), scale, minimum=20)
        built = 0
        while built < target:
            size = min(_complex_size(rng), max(20, target - built))
            org, province = _pick_owner(rng, investors)
            pool = by_province[province] if province else list(gemeenten.values())
            where = rng.choice(pool)
            serial += 1
            short = f"F{year % 100:02d}{serial:05d}"
            body = _complex_body(rng, org, f"Flexwoningen {where.name} {year}-{serial}", short, size, year)
            scenario.complexes.append(ComplexPlan(f"{tag}:complex:{serial}", org, body, _placement(rng, where, year, anchor, serial)))
            built += size

    # -- garantiekavels (§2): clusters of about 50 single-home spots
    for code, spots in GARANTIEKAVEL_SPOTS.items():
        spots = _scaled(spots, scale)
        clusters = max(1, round(spots / GARANTIEKAVEL_CLUSTER))
        where = gemeenten[code]
        for c in range(clusters):
            capacity = spots // clusters + (1 if c < spots % clusters else 0)
            lat, lon = point_near_centroid(rng, where.code, 3.0)
            opens = dt.date(2026, 1, 1) if code == "GM0200" else dt.date(2026, 7, 1) + dt.timedelta(days=91 * (c % 4))
            scenario.sites.append(
                SitePlan(
                    f"{tag}:garantiekavel:{code}:{c + 1}",
                    code,
                    {
                        "gemeente_code": code,
                        "name": f"Garantiekavel {where.name} cluster {c + 1}",
                        "kind": "garantiekavel",
                        "location": {"lat": lat, "lon": lon},
                        "area_ha": round(capacity / 30, 2),  # ~30 homes/ha (DOMAIN §7)
                        "capacity_units": capacity,
                        "available_from": opens.isoformat(),
                        "available_until": GARANTIEKAVEL_RESERVED_UNTIL.isoformat(),
                        "expected_instrument": PermitInstrument.ow_bopa.value,
                        "min_term_years": 10,
                        "max_layers": 3,
                        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True, "heat": False},
                        "dist_ov_m": rng.randrange(300, 1500, 50),
                        "dist_shops_m": rng.randrange(300, 2000, 50),
                        "garantiekavel": {
                            "cluster_id": f"GK-{code}-{c + 1:02d}",
                            # the permanent vaste-kern homes stand beside the spots: 1,890 beside 1,360
                            "vaste_kern_units": round(capacity * GARANTIEKAVEL_VASTE_KERN_HOMES / sum(GARANTIEKAVEL_SPOTS.values())),
                            "reserved_until": GARANTIEKAVEL_RESERVED_UNTIL.isoformat(),
                            "location_may_shift": code == "GM0200",  # Apeldoorn: the location may shift [SZ3]
                        },
                        "status": "published",
                    },
                )
            )

    # -- municipal and private plots: one per province first, then where the homes stand
    homes_per_gemeente: Counter[str] = Counter()
    for plan in scenario.complexes:
        if plan.placement:
            homes_per_gemeente[plan.placement["gemeente_code"]] += plan.body["unit_count"]
    codes = sorted(gemeenten)
    weights = [homes_per_gemeente[c] + 20 for c in codes]
    chosen = [rng.choice(by_province[pv]).code for pv in sorted(provinces())]
    chosen += rng.choices(codes, weights=weights, k=max(0, _scaled(MUNICIPAL_PLOTS_FULL, scale, minimum=12) - len(chosen)))
    for n, code in enumerate(chosen, start=1):
        scenario.sites.append(SitePlan(f"{tag}:site:{n}", code, _plot_body(rng, gemeenten[code], n, anchor)))
    return scenario


def _plot_body(rng: random.Random, where: Municipality, n: int, anchor: dt.date) -> dict[str, Any]:
    instrument: PermitInstrument = _weighted(rng, PLOT_REGIMES)
    maximum = MAX_TERM_YEARS[instrument]
    if instrument is PermitInstrument.wro_voorlopig:
        min_term = 5
    elif maximum is not None:
        min_term = rng.choice([5, 10])
    else:
        min_term = rng.choice([5, 10, 10, 15])
    available_from = anchor + dt.timedelta(days=rng.randrange(-180, 8 * 365))
    if instrument is PermitInstrument.permanent or (maximum is None and rng.random() < 0.3):
        available_until = None  # open-ended
    else:
        window = maximum if maximum is not None else rng.choice([10, 15, 20])
        available_until = add_months(available_from, 12 * max(window, min_term)).isoformat()
    bouwrijp = rng.random() < 0.55
    lat, lon = point_near_centroid(rng, where.code, 4.0)
    capacity = int(round(rng.triangular(12, 150, 40)))
    body: dict[str, Any] = {
        "gemeente_code": where.code,
        "name": f"Flexkavel {where.name} {n}",
        "kind": "private" if rng.random() < 0.1 else "municipal",
        "location": {"lat": lat, "lon": lon},
        "area_ha": round(capacity / rng.choice([20, 30, 40]), 2),
        "capacity_units": capacity,
        "available_from": available_from.isoformat(),
        "available_until": available_until,
        "expected_instrument": instrument.value,
        "min_term_years": min_term,
        "max_layers": rng.choice([1, 2, 2, 3, 3, 4]),
        "allows_permanent": True,
        "social_rent_only": rng.random() < 0.3,
        "readiness": {
            "bouwrijp": bouwrijp,
            "water": bouwrijp or rng.random() < 0.3,
            "electricity": bouwrijp or rng.random() < 0.4,
            "sewer": bouwrijp and rng.random() < 0.8,
            "heat": rng.random() < 0.1,
        },
        "dist_ov_m": rng.randrange(100, 3000, 50),
        "dist_shops_m": rng.randrange(100, 4000, 50),
        "status": "published",
    }
    if rng.random() < 0.07:
        flag = rng.choice(["natura2000", "geluid", "externe_veiligheid", "water_risk", "monument"])
        # noise and water risk are soft site factors (a cost), the others hard PBL exclusions
        body["site_factors" if flag in SOFT_AS_EXCLUSION else "exclusions"] = [flag]
    if rng.random() < 0.15:
        body["doelgroep_restrictions"] = sorted(rng.sample(["starters", "statushouders", "studenten", "spoedzoekers", "ontheemden"], rng.randint(1, 2)))
    return body
