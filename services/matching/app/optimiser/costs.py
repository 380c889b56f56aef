"""The cost terms of a plan, each defined once, and the herplaatsingsladder.

Two kinds of term, in one ordered registry (`TERMS`, the order of the breakdown's fields):
- per home: a quantity per home of each (demand, plot) pair times a price (transport unit-km,
  storage months, plot readiness); their EUR sum per home is the arc cost the solvers use. The
  ladder is one too, in priority points instead of EUR: never in the cost nor in the total.
- per plan: a price per piece of a complex beyond its first one of a kind (the split fixed cost
  per extra plot; the min-group penalty per piece below the minimum group beyond one remainder).

The breakdown of a plan is, per term, the dot product of its per-arc array with the flow (or its
piece count times its price); the total is the sum of the EUR terms. Nothing is derived by
subtraction, so a new term shows up under its own name.

Adding a cost term: one entry in `TERMS` (plus any derived column it reads, with `@plot_column` /
`@demand_column` beside it), a field of that name in `shared.events.models.CostBreakdown` (the
contract; the import-time check below fails until it is there) and a test in
tests/optimiser/test_costs.py. A per-plan term also needs its place in the models of
`solver.mip_improve` and `solver.lower_bound` (fixed charges are not per-home arrays).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from services.matching.app.optimiser.inputs import Demand, Plot, Weights
from services.matching.app.optimiser.pairs import Side, demand_column, plot_column
from shared.domain import LadderRung, SiteKind
from shared.events.models import CostBreakdown
from shared.reference import haversine_km

if TYPE_CHECKING:
    from services.matching.app.optimiser.solver import Arcs

DAYS_PER_MONTH = 30.4375
RUNGS: list[LadderRung] = list(LadderRung)
RUNG_INDEX = {r: i for i, r in enumerate(RUNGS)}


class Pair:
    """The pairs a term is evaluated on: both sides plus what several terms share (distance, rung)."""

    def __init__(self, d: Side, p: Side, w: Weights) -> None:
        self.d, self.p, self.w = d, p, w

    @cached_property
    def dist(self) -> np.ndarray:
        d, p = self.d, self.p
        return np.asarray(haversine_km(d.lat, d.lon, p.lat, p.lon), dtype=float)

    @cached_property
    def rung(self) -> np.ndarray:
        """The herplaatsingsladder rung index: gemeente, regio (radius), provincie, landelijk; garantiekavel apart."""
        d, p, dist = self.d, self.p, self.dist
        rung = np.full(dist.shape, RUNG_INDEX[LadderRung.landelijk], dtype=np.int8)
        rung[np.broadcast_to(d.pv == p.pv, dist.shape)] = RUNG_INDEX[LadderRung.provincie]
        rung[dist <= self.w.region_radius_km] = RUNG_INDEX[LadderRung.regio]
        rung[np.broadcast_to(d.gm == p.gm, dist.shape)] = RUNG_INDEX[LadderRung.gemeente]
        return np.where(p.garantiekavel, RUNG_INDEX[LadderRung.garantiekavel], rung).astype(np.int8)


def priority_of(rung: np.ndarray, w: Weights) -> np.ndarray:
    """Ladder priority points per home of each rung index (garantiekavel: the backstop penalty)."""
    table = np.array([i * w.ladder_step_per_unit for i in range(4)]
                     + [0.0 if w.allow_garantiekavel_override else w.garantiekavel_penalty_per_unit])
    return table[rung]


def _coded(attr: str):
    def column(row: Demand | Plot, w: Weights, code) -> int:
        return code(getattr(row, attr))  # ints: the rung compares gemeente and province of both sides
    return column


for _name, _attr in (("gm", "gemeente_code"), ("pv", "province_code")):
    demand_column(_name)(_coded(_attr))
    plot_column(_name)(_coded(_attr))


@plot_column("garantiekavel")
def _garantiekavel(p: Plot, w: Weights, code) -> bool:
    return p.kind is SiteKind.garantiekavel


@plot_column("readiness")
def _readiness(p: Plot, w: Weights, code) -> float:
    """EUR per home of site work: not bouwrijp ~50%, utilities missing ~15% of the relocation cost."""
    share = (0.0 if p.bouwrijp else w.site_prep_share) + (0.0 if p.utilities_complete else w.connection_share)
    return w.relocation_cost_eur_per_unit * share


@plot_column("site_factor_count")
def _site_factor_count(p: Plot, w: Weights, code) -> int:
    """Soft site factors on the plot (geluid, water_risk): each costs `site_factor_eur_per_unit` a home."""
    return len(p.site_factors)


# ----------------------------------------------------------------- the registry


@dataclass(frozen=True)
class PerHome:
    """quantity(pair) per home x price(w); `quantity_field` reports the summed quantity."""

    quantity: Callable[[Pair], np.ndarray]
    price: Callable[[Weights], float]
    quantity_field: str | None = None
    eur: bool = True  # False: priority points (the ladder), kept out of the EUR cost and the total


@dataclass(frozen=True)
class PerPlan:
    """price(w) per piece of a complex beyond its first of those `pieces(flow, group)` selects."""

    pieces: Callable[[np.ndarray, np.ndarray], np.ndarray]
    price: Callable[[Weights], float]
    count_field: str


TERMS: dict[str, PerHome | PerPlan] = {
    "transport": PerHome(lambda x: x.dist * x.w.road_factor, lambda w: w.transport_eur_per_unit_km, "transport_unit_km"),
    # every plot a complex is spread over beyond its first
    "split": PerPlan(lambda flow, group: flow > 0, lambda w: w.split_fixed_eur, "splits"),
    "storage": PerHome(lambda x: np.maximum(0, x.p.opens - x.d.end) / DAYS_PER_MONTH,
                       lambda w: w.storage_eur_per_unit_month, "storage_months"),
    "readiness": PerHome(lambda x: x.p.readiness, lambda w: 1.0),
    # soft site factors (noise, water risk): a small EUR surcharge per home per factor
    "site_factors": PerHome(lambda x: x.p.site_factor_count.astype(float), lambda w: w.site_factor_eur_per_unit),
    # pieces below the complex's minimum group size beyond its one allowed remainder
    "min_group": PerPlan(lambda flow, group: (flow > 0) & (flow < group), lambda w: w.min_group_penalty_eur,
                         "min_group_violations"),
    "ladder": PerHome(lambda x: priority_of(x.rung, x.w), lambda w: 1.0, eur=False),
}
PER_HOME = {k: t for k, t in TERMS.items() if isinstance(t, PerHome)}
EUR_PER_HOME = {k: t for k, t in PER_HOME.items() if t.eur}
PER_PLAN = {k: t for k, t in TERMS.items() if isinstance(t, PerPlan)}

_missing = {n for k, t in TERMS.items() for n in (k, getattr(t, "quantity_field", None), getattr(t, "count_field", None))
            if n} - set(CostBreakdown.model_fields)
if _missing:
    raise RuntimeError(f"cost terms without a field in CostBreakdown: {sorted(_missing)}")


# ----------------------------------------------------------------- per pair


@dataclass
class PairCosts:
    dist: np.ndarray
    rung: np.ndarray
    quantities: dict[str, np.ndarray]  # per per-home term: its quantity per home
    eur: np.ndarray  # EUR per home: the sum of the EUR per-home terms (no split cost)
    priority: np.ndarray  # ladder priority points per home


def pair_costs(d: Side, p: Side, w: Weights) -> PairCosts:
    """Every per-home term of the pairs (block or aligned pairs), their EUR sum and the ladder priority."""
    x = Pair(d, p, w)
    quantities = {k: t.quantity(x) for k, t in PER_HOME.items()}
    eur: np.ndarray | float = 0.0
    for k, t in EUR_PER_HOME.items():
        eur = eur + quantities[k] * t.price(w)
    return PairCosts(x.dist, x.rung, quantities, np.broadcast_to(eur, x.dist.shape),
                     quantities["ladder"] * TERMS["ladder"].price(w))


# ----------------------------------------------------------------- per plan


def excess(pieces: np.ndarray | int) -> np.ndarray | int:
    """What a complex pays for: its pieces beyond the first (one plot, one remainder are free)."""
    return np.maximum(0, pieces - 1)


def plan_counts(demand: np.ndarray, flow: np.ndarray, group: np.ndarray | None) -> dict[str, int]:
    """Per per-plan term: the pieces the plan pays for (`group`: each arc's minimum group size)."""
    g = np.ones(len(flow), dtype=np.int64) if group is None else group
    return {k: int(excess(np.bincount(demand[t.pieces(flow, g)])).sum()) for k, t in PER_PLAN.items()}


def complex_counts(x: np.ndarray, g: int) -> list[int]:
    """Per per-plan term: the pieces one complex with allocations `x` pays for."""
    return [int(excess(int(t.pieces(x, g).sum()))) for t in PER_PLAN.values()]


def eur(per_home: float, counts: list[int] | dict[str, int], w: Weights) -> float:
    """EUR of a plan (or a complex): its per-home EUR plus each per-plan term's pieces times price."""
    values = counts.values() if isinstance(counts, dict) else counts
    for t, c in zip(PER_PLAN.values(), values):
        per_home += t.price(w) * c
    return per_home


def group_of(arcs: Arcs, groups: np.ndarray) -> np.ndarray:
    """Per arc: the complex's minimum group size (capped at its home count)."""
    return groups[arcs.demand]


def paying_pieces(term: str, demand: np.ndarray, flow: np.ndarray, group: np.ndarray) -> np.ndarray:
    """The arcs a per-plan term charges: the pieces it selects but each complex's largest (its free one)."""
    idx = np.nonzero(PER_PLAN[term].pieces(flow, group))[0]
    if len(idx) < 2:
        return np.zeros(0, dtype=np.int64)
    order = idx[np.lexsort((-flow[idx], demand[idx]))]
    first = np.ones(len(order), dtype=bool)
    first[1:] = demand[order][1:] != demand[order][:-1]
    return order[~first]


def min_group_violations(arcs: Arcs, flow: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Arcs whose allocation is below the complex's min group size beyond the one allowed remainder."""
    return paying_pieces("min_group", arcs.demand, flow, group_of(arcs, groups))


def eur_cost(arcs: Arcs, flow: np.ndarray, groups: np.ndarray | None, w: Weights) -> float:
    """The EUR objective of a plan: per-home terms + per-plan terms."""
    counts = plan_counts(arcs.demand, flow, None if groups is None else group_of(arcs, groups))
    return eur(float(np.dot(arcs.cost, flow)), counts, w)


def breakdown(arcs: Arcs, flow: np.ndarray, w: Weights, groups: np.ndarray | None = None) -> CostBreakdown:
    """Per term: the dot product of its per-arc array with the flow (or its pieces x price); the EUR total."""
    f = flow.astype(float)
    counts = plan_counts(arcs.demand, flow, None if groups is None else group_of(arcs, groups))
    values: dict[str, float | int] = {}
    total = 0.0
    for k, t in TERMS.items():
        if isinstance(t, PerHome):
            quantity = float(np.dot(arcs.quantities[k], f))
            if t.quantity_field:
                values[t.quantity_field] = round(quantity, 3)
            values[k] = round(quantity * t.price(w), 2)
        else:
            values[t.count_field] = counts[k]
            values[k] = counts[k] * t.price(w)
        if not isinstance(t, PerHome) or t.eur:
            total += values[k]
    return CostBreakdown(**values, total=total)
