"""Allocating the homes of expiring placements to plots (herplaatsing) with real solvers.

Pure module: plain dataclasses in, plain dataclasses out; the service, the tests and
`bench/matching_solver.py` share it.

Model. Each demand (the homes of one expiring placement, all of one complex) may be
split over several plots. An arc demand -> plot exists only when every hard constraint
holds (see `pair_violations`, vectorised in `_feasible_block`). Per home an arc costs
transport (haversine x road factor x EUR/unit-km) + storage months + plot readiness +
a ladder penalty for the rung; every extra plot a complex is split over costs a fixed
amount, and no allocation may be smaller than the complex's `min_group_size` unless it
is the (one) remainder.

Solving.
1. Min-cost max-flow (OR-Tools SimpleMinCostFlow) on the feasible arcs: the maximum
   number of homes that can be housed and the split-blind optimum (the baseline).
2. Small instances (the per-placement proposals): an exact MIP in HiGHS with split
   binaries, min-group-size and "house as many as possible" first.
3. Large instances (national runs): dynamic slope scaling - repeated min-cost max-flows
   whose per-home arc cost carries the split cost spread over the flow the arc had in the
   previous round - which consolidates splits while keeping homes housed equal to the
   maximum flow; then a min-group-size repair.
Garantiekavels are the backstop: their arcs carry a penalty larger than any other
cost, so they only take homes no other plot can take (unless the marktmeester overrides).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from ortools.graph.python import min_cost_flow

from shared.domain import MAX_TERM_YEARS, BblLevel, Doelgroep, LadderRung, PermitInstrument, SiteKind, is_temporary

RUNGS: list[LadderRung] = list(LadderRung)
RUNG_INDEX = {r: i for i, r in enumerate(RUNGS)}
DOELGROEP_BIT = {g: 1 << i for i, g in enumerate(Doelgroep)}
# Groups whose housing is not social rent: a plot restricted to these only cannot take RTHF/SFT homes.
NON_SOCIAL_RENT_GROUPS = frozenset({Doelgroep.expats, Doelgroep.arbeidsmigranten})
NON_SOCIAL_MASK = sum(DOELGROEP_BIT[g] for g in NON_SOCIAL_RENT_GROUPS)
DAYS_PER_MONTH = 30.4375
DAYS_PER_YEAR = 365.25


@dataclass(frozen=True)
class Weights:
    """Objective weights and rule parameters (all from the service settings)."""

    road_factor: float = 1.3
    transport_eur_per_unit_km: float = 4.0
    split_fixed_eur: float = 25_000.0
    storage_eur_per_unit_month: float = 250.0
    relocation_cost_eur_per_unit: float = 30_000.0
    site_prep_share: float = 0.50  # not bouwrijp: site preparation ~50% of relocation cost
    connection_share: float = 0.15  # utilities missing: connections ~15%
    rung_penalty_eur_per_unit: dict[str, float] = field(
        default_factory=lambda: {"gemeente": 0.0, "regio": 1_000.0, "provincie": 2_500.0, "landelijk": 5_000.0}
    )
    garantiekavel_penalty_eur_per_unit: float = 1_000_000.0  # backstop: above every other cost
    max_storage_gap_months: int = 6
    min_follow_up_years: float = 5.0
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
    bouwrijp: bool = True
    utilities_complete: bool = True
    exclusions: frozenset[str] = frozenset()


@dataclass
class CostTerms:
    transport_unit_km: float = 0.0
    transport: float = 0.0
    splits: int = 0
    split: float = 0.0
    storage_months: float = 0.0  # unit-months
    storage: float = 0.0
    readiness: float = 0.0
    ladder: float = 0.0

    @property
    def total(self) -> float:
        return self.transport + self.split + self.storage + self.readiness + self.ladder

    def as_dict(self) -> dict[str, float]:
        return {**dataclasses.asdict(self), "total": self.total}


@dataclass
class Allocation:
    demand: int
    plot: int
    units: int
    rung: LadderRung
    distance_km: float


@dataclass
class Solution:
    allocations: list[Allocation]
    housed: int
    max_flow: int
    unassigned: int
    cost: CostTerms
    stats: dict

    def by_demand(self) -> dict[int, list[Allocation]]:
        out: dict[int, list[Allocation]] = defaultdict(list)
        for a in self.allocations:
            out[a.demand].append(a)
        return out


# ----------------------------------------------------------------- hard constraints


def _deadline(d: Demand, w: Weights) -> dt.date:
    from shared.clock import add_months

    return add_months(d.end_date, w.max_storage_gap_months)


def rung_of(d: Demand, p: Plot, w: Weights) -> LadderRung:
    if p.kind is SiteKind.garantiekavel:
        return LadderRung.garantiekavel
    if p.gemeente_code == d.gemeente_code:
        return LadderRung.gemeente
    if haversine_km(d.lat, d.lon, p.lat, p.lon) <= w.region_radius_km:
        return LadderRung.regio
    if p.province_code == d.province_code:
        return LadderRung.provincie
    return LadderRung.landelijk


def pair_violations(d: Demand, p: Plot, w: Weights) -> list[str]:
    """Every hard constraint the pair breaks (empty = the plot may take these homes)."""
    out: list[str] = []
    if p.exclusions:
        out.append("exclusion_flag")
    if p.free_units <= 0:
        out.append("capacity")
    if p.available_from > _deadline(d, w):
        out.append("time_window_start")
    start = max(d.end_date, p.available_from)
    if p.available_until is not None and (p.available_until - start).days < w.min_follow_up_years * DAYS_PER_YEAR:
        out.append("time_window_term")
    max_term = MAX_TERM_YEARS[p.expected_instrument]
    if max_term is not None and max_term < w.min_follow_up_years:
        out.append("permit_regime_term")
    if d.bbl_level is BblLevel.tijdelijk and not (p.allows_tijdelijk_bbl and is_temporary(p.expected_instrument)):
        out.append("bbl_level")
    elif d.bbl_level is BblLevel.nieuwbouw and d.composition_changed and not p.allows_tijdelijk_bbl:
        out.append("bbl_composition_changed")
    if d.layers > p.max_layers:
        out.append("stacking")
    if p.doelgroep_restrictions and (not d.doelgroepen or not d.doelgroepen <= p.doelgroep_restrictions):
        out.append("doelgroep")
    if d.social_rent and p.doelgroep_restrictions and p.doelgroep_restrictions <= NON_SOCIAL_RENT_GROUPS:
        out.append("social_rent_lock_in")
    if p.social_rent_only and not d.social_rent:
        out.append("social_rent_only_plot")
    if p.key in d.excluded_plots:
        out.append("declined_before")
    return out


def haversine_km(lat1, lon1, lat2, lon2):  # noqa: ANN001, ANN201 - scalars or numpy arrays
    r = 6371.0088
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(np.asarray(lon2) - np.asarray(lon1))
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    res = 2 * r * np.arcsin(np.sqrt(np.minimum(a, 1.0)))
    return float(res) if np.ndim(res) == 0 else res


class _Arrays:
    """Column arrays of demands and plots for vectorised feasibility and cost."""

    def __init__(self, demands: Sequence[Demand], plots: Sequence[Plot], w: Weights) -> None:
        codes: dict[str, int] = {}
        code = lambda s: codes.setdefault(s, len(codes))  # noqa: E731
        self.d_units = np.array([d.units for d in demands], dtype=np.int64)
        self.d_lat = np.array([d.lat for d in demands], dtype=float)
        self.d_lon = np.array([d.lon for d in demands], dtype=float)
        self.d_gm = np.array([code(d.gemeente_code) for d in demands], dtype=np.int64)
        self.d_pv = np.array([code(d.province_code) for d in demands], dtype=np.int64)
        self.d_end = np.array([d.end_date.toordinal() for d in demands], dtype=np.int64)
        self.d_deadline = np.array([_deadline(d, w).toordinal() for d in demands], dtype=np.int64)
        self.d_tijd = np.array([d.bbl_level is BblLevel.tijdelijk for d in demands], dtype=bool)
        self.d_changed = np.array(
            [d.bbl_level is BblLevel.nieuwbouw and d.composition_changed for d in demands], dtype=bool
        )
        self.d_layers = np.array([d.layers for d in demands], dtype=np.int64)
        self.d_groups = np.array([sum(DOELGROEP_BIT[g] for g in d.doelgroepen) for d in demands], dtype=np.int64)
        self.d_social = np.array([d.social_rent for d in demands], dtype=bool)

        self.p_free = np.array([p.free_units for p in plots], dtype=np.int64)
        self.p_lat = np.array([p.lat for p in plots], dtype=float)
        self.p_lon = np.array([p.lon for p in plots], dtype=float)
        self.p_gm = np.array([code(p.gemeente_code) for p in plots], dtype=np.int64)
        self.p_pv = np.array([code(p.province_code) for p in plots], dtype=np.int64)
        self.p_from = np.array([p.available_from.toordinal() for p in plots], dtype=np.int64)
        big = dt.date.max.toordinal()
        self.p_until = np.array([p.available_until.toordinal() if p.available_until else big for p in plots], dtype=np.int64)
        self.p_garantie = np.array([p.kind is SiteKind.garantiekavel for p in plots], dtype=bool)
        self.p_temp_ok = np.array([p.allows_tijdelijk_bbl and is_temporary(p.expected_instrument) for p in plots], dtype=bool)
        self.p_allows_tijd = np.array([p.allows_tijdelijk_bbl for p in plots], dtype=bool)
        self.p_layers = np.array([p.max_layers for p in plots], dtype=np.int64)
        self.p_groups = np.array([sum(DOELGROEP_BIT[g] for g in p.doelgroep_restrictions) for p in plots], dtype=np.int64)
        self.p_non_social = np.array(
            [bool(p.doelgroep_restrictions) and p.doelgroep_restrictions <= NON_SOCIAL_RENT_GROUPS for p in plots], dtype=bool
        )
        self.p_social_only = np.array([p.social_rent_only for p in plots], dtype=bool)
        max_terms = [MAX_TERM_YEARS[p.expected_instrument] for p in plots]
        self.p_static_ok = np.array(
            [not p.exclusions and p.free_units > 0 and (m is None or m >= w.min_follow_up_years) for p, m in zip(plots, max_terms)],
            dtype=bool,
        )
        self.p_readiness = np.array(
            [
                w.relocation_cost_eur_per_unit
                * ((0.0 if p.bouwrijp else w.site_prep_share) + (0.0 if p.utilities_complete else w.connection_share))
                for p in plots
            ],
            dtype=float,
        )


def _feasible_block(a: _Arrays, rows: np.ndarray, w: Weights) -> np.ndarray:
    """Boolean matrix (len(rows) x plots): every hard constraint of `pair_violations` but declines."""
    R = lambda x: x[rows][:, None]  # noqa: E731
    ok = a.p_static_ok[None, :] & (a.p_from[None, :] <= R(a.d_deadline))
    start = np.maximum(R(a.d_end), a.p_from[None, :])
    ok &= (a.p_until[None, :] - start) >= w.min_follow_up_years * DAYS_PER_YEAR
    ok &= ~R(a.d_tijd) | a.p_temp_ok[None, :]
    ok &= ~R(a.d_changed) | a.p_allows_tijd[None, :]
    ok &= R(a.d_layers) <= a.p_layers[None, :]
    dg = R(a.d_groups)
    ok &= (a.p_groups[None, :] == 0) | ((dg != 0) & ((dg & ~a.p_groups[None, :]) == 0))
    ok &= ~(R(a.d_social) & a.p_non_social[None, :])
    ok &= ~(a.p_social_only[None, :] & ~R(a.d_social))
    return ok


def _cost_block(a: _Arrays, rows: np.ndarray, w: Weights) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Per-home cost matrix (without the split cost), rung index, distance and storage months."""
    dist = haversine_km(a.d_lat[rows][:, None], a.d_lon[rows][:, None], a.p_lat[None, :], a.p_lon[None, :])
    storage = np.maximum(0, a.p_from[None, :] - a.d_end[rows][:, None]) / DAYS_PER_MONTH
    rung = np.full(dist.shape, RUNG_INDEX[LadderRung.landelijk], dtype=np.int8)
    rung[a.d_pv[rows][:, None] == a.p_pv[None, :]] = RUNG_INDEX[LadderRung.provincie]
    rung[dist <= w.region_radius_km] = RUNG_INDEX[LadderRung.regio]
    rung[a.d_gm[rows][:, None] == a.p_gm[None, :]] = RUNG_INDEX[LadderRung.gemeente]
    penalty = np.array([w.rung_penalty_eur_per_unit.get(r.value, 0.0) for r in RUNGS[:4]] + [0.0])
    cost = (
        dist * w.road_factor * w.transport_eur_per_unit_km
        + storage * w.storage_eur_per_unit_month
        + a.p_readiness[None, :]
        + penalty[rung]
    )
    garantie = np.broadcast_to(a.p_garantie[None, :], dist.shape)
    if not w.allow_garantiekavel_override:
        cost = np.where(garantie, cost + w.garantiekavel_penalty_eur_per_unit, cost)
    rung = np.where(garantie, RUNG_INDEX[LadderRung.garantiekavel], rung).astype(np.int8)
    return cost, rung, dist, storage


@dataclass
class Arcs:
    demand: np.ndarray
    plot: np.ndarray
    cap: np.ndarray
    cost: np.ndarray  # EUR per home, without split cost
    rung: np.ndarray
    dist: np.ndarray
    storage: np.ndarray
    pairs_feasible: int = 0


def build_arcs(demands: Sequence[Demand], plots: Sequence[Plot], w: Weights, k: int | None = 20, block: int = 256) -> Arcs:
    """Feasible arcs; with `k`, each demand's k cheapest plots PLUS each plot's 2k cheapest demands."""
    a = _Arrays(demands, plots, w)
    n, m = len(demands), len(plots)
    keep_d: list[np.ndarray] = []
    keep_p: list[np.ndarray] = []
    feasible_pairs = 0
    # per-plot best candidates, merged block by block
    best_p_cost = np.full((0, m), np.inf)
    best_p_row = np.zeros((0, m), dtype=np.int64)
    excluded = {i: d.excluded_plots for i, d in enumerate(demands) if d.excluded_plots}
    plot_index = {p.key: j for j, p in enumerate(plots)}
    for lo in range(0, n, block):
        rows = np.arange(lo, min(n, lo + block))
        ok = _feasible_block(a, rows, w)
        for i, keys in excluded.items():
            if lo <= i < lo + block:
                for key in keys:
                    if key in plot_index:
                        ok[i - lo, plot_index[key]] = False
        cost, _, _, _ = _cost_block(a, rows, w)
        cost = np.where(ok, cost, np.inf)
        feasible_pairs += int(ok.sum())
        if k is None or k >= m:
            r, c = np.nonzero(ok)
            keep_d.append(np.stack([rows[r], c]))
            continue
        kk = min(k, m)
        idx = np.argpartition(cost, kk - 1, axis=1)[:, :kk]
        sel = np.take_along_axis(cost, idx, axis=1)
        r = np.repeat(rows, kk).reshape(len(rows), kk)
        good = np.isfinite(sel)
        keep_d.append(np.stack([r[good], idx[good]]))
        stacked_cost = np.vstack([best_p_cost, cost])
        stacked_row = np.vstack([best_p_row, np.broadcast_to(rows[:, None], cost.shape)])
        k2 = min(2 * k, stacked_cost.shape[0])
        part = np.argpartition(stacked_cost, k2 - 1, axis=0)[:k2, :]
        best_p_cost = np.take_along_axis(stacked_cost, part, axis=0)
        best_p_row = np.take_along_axis(stacked_row, part, axis=0)
    if k is not None and k < m and best_p_cost.size:
        good = np.isfinite(best_p_cost)
        cols = np.broadcast_to(np.arange(m)[None, :], best_p_cost.shape)
        keep_p.append(np.stack([best_p_row[good], cols[good]]))
    pairs = np.hstack(keep_d + keep_p) if (keep_d or keep_p) else np.zeros((2, 0), dtype=np.int64)
    if pairs.size:
        pairs = np.unique(pairs, axis=1)
    return _arcs_for(a, w, pairs[0].astype(np.int64), pairs[1].astype(np.int64), feasible_pairs)


def _arcs_for(a: _Arrays, w: Weights, di: np.ndarray, pj: np.ndarray, feasible_pairs: int) -> Arcs:
    """Cost terms of the given demand->plot pairs."""
    dist = np.atleast_1d(np.asarray(haversine_km(a.d_lat[di], a.d_lon[di], a.p_lat[pj], a.p_lon[pj]), dtype=float))
    storage = np.maximum(0, a.p_from[pj] - a.d_end[di]) / DAYS_PER_MONTH
    rung = np.full(len(di), RUNG_INDEX[LadderRung.landelijk], dtype=np.int8)
    rung[a.d_pv[di] == a.p_pv[pj]] = RUNG_INDEX[LadderRung.provincie]
    rung[dist <= w.region_radius_km] = RUNG_INDEX[LadderRung.regio]
    rung[a.d_gm[di] == a.p_gm[pj]] = RUNG_INDEX[LadderRung.gemeente]
    penalty = np.array([w.rung_penalty_eur_per_unit.get(r.value, 0.0) for r in RUNGS[:4]] + [0.0])
    cost = dist * w.road_factor * w.transport_eur_per_unit_km + storage * w.storage_eur_per_unit_month + a.p_readiness[pj] + penalty[rung]
    g = a.p_garantie[pj]
    if not w.allow_garantiekavel_override:
        cost = np.where(g, cost + w.garantiekavel_penalty_eur_per_unit, cost)
    rung = np.where(g, RUNG_INDEX[LadderRung.garantiekavel], rung).astype(np.int8)
    cap = np.minimum(a.d_units[di], a.p_free[pj])
    return Arcs(di, pj, cap, cost, rung, dist, storage, feasible_pairs)


# ----------------------------------------------------------------- solvers


COST_SCALE = 10  # integer costs for the network simplex: tenths of a euro


def min_cost_max_flow(
    n: int, m: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, unit_cost: np.ndarray, arc_cap: np.ndarray | None = None
) -> np.ndarray:
    """Max flow with min cost over the demand->plot arcs; returns the flow per arc."""
    if len(arcs.demand) == 0:
        return np.zeros(0, dtype=np.int64)
    mcf = min_cost_flow.SimpleMinCostFlow()
    caps = arcs.cap if arc_cap is None else arc_cap
    costs = np.rint(unit_cost * COST_SCALE).astype(np.int64)
    mcf.add_arcs_with_capacity_and_unit_cost(arcs.demand, n + arcs.plot, caps.astype(np.int64), costs)
    mcf.set_nodes_supplies(np.arange(n + m), np.concatenate([supply, -capacity]).astype(np.int64))
    status = mcf.solve_max_flow_with_min_cost()
    if status != mcf.OPTIMAL:
        raise RuntimeError(f"min-cost flow failed: {status}")
    return np.asarray(mcf.flows(np.arange(len(arcs.demand))), dtype=np.int64)


def true_cost(arcs: Arcs, flow: np.ndarray, w: Weights) -> float:
    used = flow > 0
    housed_demands = len(np.unique(arcs.demand[used]))
    return float(np.dot(arcs.cost, flow)) + w.split_fixed_eur * (int(used.sum()) - housed_demands)


def min_group_violations(arcs: Arcs, flow: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Arcs whose allocation is below the complex's min group size beyond the one allowed remainder."""
    bad: list[int] = []
    small = np.nonzero((flow > 0) & (flow < groups[arcs.demand]))[0]
    by_demand: dict[int, list[int]] = defaultdict(list)
    for a in small:
        by_demand[int(arcs.demand[a])].append(int(a))
    for lst in by_demand.values():
        if len(lst) > 1:
            lst.sort(key=lambda a: -flow[a])
            bad.extend(lst[1:])  # keep the largest small piece as the remainder
    return np.array(bad, dtype=np.int64)


def _largest_piece(arcs: Arcs, flow: np.ndarray) -> np.ndarray:
    """Mask of each demand's largest allocation (its first plot: no split cost)."""
    order = np.lexsort((-flow, arcs.demand))
    first = np.ones(len(order), dtype=bool)
    first[1:] = arcs.demand[order][1:] != arcs.demand[order][:-1]
    mask = np.zeros(len(flow), dtype=bool)
    mask[order[first]] = True
    return mask & (flow > 0)


def slope_scaling(
    n: int, m: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    start: np.ndarray, time_limit_s: float, max_rounds: int = 400,
) -> tuple[np.ndarray, dict]:
    """Dynamic slope scaling (Kim & Pardalos) for the split cost, then a min-group-size repair.

    Every round is a min-cost MAX flow, so homes housed never drop below the maximum. A
    complex's largest piece is its home plot and carries no split cost; every other piece of
    x homes carries f / x per home, so small pieces look expensive and melt away round by round.
    """
    t0 = time.perf_counter()
    f = w.split_fixed_eur
    flow, best, best_cost = start, start.copy(), true_cost(arcs, start, w)
    clean_best, clean_cost = None, math.inf  # the best round that needed no min-group repair
    if len(min_group_violations(arcs, start, groups)) == 0:
        clean_best, clean_cost = start.copy(), best_cost
    slope = arcs.cost.copy()
    rounds, stale = 0, 0
    while rounds < max_rounds and time.perf_counter() - t0 < time_limit_s and stale < 25:
        rounds += 1
        lead = _largest_piece(arcs, flow)
        slope = np.where(flow > 0, np.where(lead, arcs.cost, arcs.cost + f / np.maximum(flow, 1)), slope)
        bad = min_group_violations(arcs, flow, groups)
        if len(bad):  # pieces below the min group size: steer flow away, keeping the max flow
            slope[bad] += 4 * f
        flow = min_cost_max_flow(n, m, arcs, supply, capacity, slope)
        c = true_cost(arcs, flow, w)
        clean = len(min_group_violations(arcs, flow, groups)) == 0
        if clean and c < clean_cost - 1e-6:
            clean_best, clean_cost = flow.copy(), c
        if c < best_cost - 1e-6:  # min-group pieces are repaired below
            best, best_cost, stale = flow.copy(), c, 0
        else:
            stale += 1
    # min group size: forbid offending small pieces and re-solve with the scaled costs
    target = int(start.sum())
    arc_cap = arcs.cap.copy()
    repairs = 0
    flow = best
    bad = min_group_violations(arcs, flow, groups)
    # the best round's slopes, frozen: forbidding a piece moves little else
    lead = _largest_piece(arcs, flow)
    slope = np.where(flow > 0, np.where(lead, arcs.cost, arcs.cost + f / np.maximum(flow, 1)), slope)
    while len(bad) and repairs < 15:
        repairs += 1
        arc_cap[bad] = 0
        candidate = min_cost_max_flow(n, m, arcs, supply, capacity, slope, arc_cap)
        if candidate.sum() < target:  # forbidding cost homes: keep the pieces, try the next violation set
            arc_cap[bad] = arcs.cap[bad]
            slope[bad] += 4 * f
            candidate = min_cost_max_flow(n, m, arcs, supply, capacity, slope, arc_cap)
        flow = candidate
        bad = min_group_violations(arcs, flow, groups)
    if clean_best is not None and (len(bad) or true_cost(arcs, flow, w) > clean_cost) and clean_best.sum() >= flow.sum():
        flow, bad = clean_best, np.zeros(0, dtype=np.int64)  # the repaired plan lost to a round that needed none
    dropped = 0
    if len(bad):  # last resort: leave those homes unhoused rather than break the rule
        flow = flow.copy()
        dropped = int(flow[bad].sum())
        flow[bad] = 0
    return flow, {"rounds": rounds, "repairs": repairs, "min_group_dropped_homes": dropped,
                  "housed_before_repair": target, "search_s": round(time.perf_counter() - t0, 3)}


def exact_mip(
    n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights, time_limit_s: float,
    house_weight: float,
) -> tuple[np.ndarray, dict]:
    """HiGHS MIP: house as many homes as possible, then minimise cost incl. splits and min group size."""
    import highspy

    A = len(arcs.demand)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    h.setOptionValue("mip_rel_gap", 1e-9)
    h.setOptionValue("threads", 1)
    m_a = arcs.cap.astype(float)
    g_a = np.minimum(groups[arcs.demand], supply[arcs.demand]).astype(float)
    need_small = g_a > 1
    S = int(need_small.sum())
    # columns: x (A), y (A), s (S)
    inf = highspy.kHighsInf
    cost = np.concatenate([arcs.cost - house_weight, np.full(A, w.split_fixed_eur), np.zeros(S)])
    lower = np.zeros(2 * A + S)
    upper = np.concatenate([m_a, np.ones(A), np.ones(S)])
    h.addVars(2 * A + S, lower, upper)
    h.changeColsCost(2 * A + S, np.arange(2 * A + S, dtype=np.int32), cost)
    h.changeColsIntegrality(2 * A + S, np.arange(2 * A + S, dtype=np.int32), np.full(2 * A + S, highspy.HighsVarType.kInteger))
    rows_lo: list[float] = []
    rows_hi: list[float] = []
    starts: list[int] = []
    idx: list[int] = []
    val: list[float] = []

    def row(cols: Iterable[int], coefs: Iterable[float], lo: float, hi: float) -> None:
        starts.append(len(idx))
        idx.extend(cols)
        val.extend(coefs)
        rows_lo.append(lo)
        rows_hi.append(hi)

    by_d: dict[int, list[int]] = defaultdict(list)
    by_p: dict[int, list[int]] = defaultdict(list)
    for a_, (i, j) in enumerate(zip(arcs.demand, arcs.plot)):
        by_d[int(i)].append(a_)
        by_p[int(j)].append(a_)
    for i, lst in by_d.items():
        row(lst, [1.0] * len(lst), -inf, float(supply[i]))
    for j, lst in by_p.items():
        row(lst, [1.0] * len(lst), -inf, float(capacity[j]))
    small_col = {}
    for pos, a_ in enumerate(np.nonzero(need_small)[0]):
        small_col[int(a_)] = 2 * A + pos
    for a_ in range(A):
        row([a_, A + a_], [1.0, -m_a[a_]], -inf, 0.0)  # x <= m y
        if a_ in small_col:
            s = small_col[a_]
            row([a_, A + a_, s], [1.0, -g_a[a_], g_a[a_]], 0.0, inf)  # x >= g (y - s)
            row([s, A + a_], [1.0, -1.0], -inf, 0.0)  # s <= y
        else:
            row([a_, A + a_], [1.0, -1.0], 0.0, inf)  # y only if used
    for i, lst in by_d.items():
        smalls = [small_col[a_] for a_ in lst if a_ in small_col]
        if len(smalls) > 1:
            row(smalls, [1.0] * len(smalls), -inf, 1.0)  # one remainder piece at most
    h.addRows(len(rows_lo), np.array(rows_lo), np.array(rows_hi), len(idx), np.array(starts, dtype=np.int32),
              np.array(idx, dtype=np.int32), np.array(val))
    h.run()
    status = h.getModelStatus()
    sol = np.asarray(h.getSolution().col_value)
    if sol.size < A:
        raise RuntimeError(f"HiGHS found no solution: {h.modelStatusToString(status)}")
    flow = np.rint(sol[:A]).astype(np.int64)
    info = h.getInfo()
    gap = float(info.mip_gap)
    return flow, {"mip_status": h.modelStatusToString(status), "mip_gap": gap if math.isfinite(gap) else None,
                  "mip_nodes": int(info.mip_node_count)}


def solve(
    demands: Sequence[Demand],
    plots: Sequence[Plot],
    w: Weights,
    *,
    k: int | None = 20,
    method: str = "auto",
    time_limit_s: float = 10.0,
    arcs: Arcs | None = None,
) -> Solution:
    """Allocate the demands' homes to the plots. method: auto | exact | slope_scaling | mcf."""
    t0 = time.perf_counter()
    n, m = len(demands), len(plots)
    arcs = arcs or build_arcs(demands, plots, w, k=k)
    t_arcs = time.perf_counter() - t0
    supply = np.array([d.units for d in demands], dtype=np.int64)
    capacity = np.array([max(0, p.free_units) for p in plots], dtype=np.int64)
    groups = np.array([max(1, d.min_group_size) for d in demands], dtype=np.int64)
    base = min_cost_max_flow(n, m, arcs, supply, capacity, arcs.cost)
    max_flow = int(base.sum())
    stats: dict = {"arcs": int(len(arcs.demand)), "feasible_pairs": arcs.pairs_feasible, "arc_build_s": round(t_arcs, 3)}
    if method == "auto":
        method = "exact" if len(arcs.demand) <= 3000 else "slope_scaling"
    if len(arcs.demand) == 0:
        flow = np.zeros(0, dtype=np.int64)
        method = "none (no feasible arc)"
    elif method == "mcf":
        flow = base.copy()
        bad = min_group_violations(arcs, flow, groups)
        stats["min_group_violations"] = int(len(bad))
    elif method == "exact":
        house_weight = float(arcs.cost.max(initial=0.0)) + w.split_fixed_eur * 2 + 1.0
        flow, extra = exact_mip(n, arcs, supply, capacity, groups, w, time_limit_s, house_weight)
        stats.update(extra)
    elif method == "slope_scaling":
        flow, extra = slope_scaling(n, m, arcs, supply, capacity, groups, w, base, time_limit_s)
        stats.update(extra)
    else:
        raise ValueError(f"unknown method {method}")
    stats["method"] = method
    allocations = [
        Allocation(int(arcs.demand[a]), int(arcs.plot[a]), int(flow[a]), RUNGS[int(arcs.rung[a])], float(arcs.dist[a]))
        for a in np.nonzero(flow > 0)[0]
    ]
    housed = int(flow.sum())
    cost = cost_terms(arcs, flow, w)
    stats["wall_s"] = round(time.perf_counter() - t0, 3)
    return Solution(allocations, housed, max_flow, int(supply.sum()) - housed, cost, stats)


def cost_terms(arcs: Arcs, flow: np.ndarray, w: Weights) -> CostTerms:
    used = flow > 0
    f = flow.astype(float)
    transport_km = float(np.dot(arcs.dist * w.road_factor, f))
    storage = float(np.dot(arcs.storage, f))
    penalty = np.array([w.rung_penalty_eur_per_unit.get(r.value, 0.0) for r in RUNGS[:4]] + [0.0])
    ladder = float(np.dot(penalty[arcs.rung], f))
    backstop = 0.0
    if not w.allow_garantiekavel_override:
        backstop = float(np.dot((arcs.rung == RUNG_INDEX[LadderRung.garantiekavel]) * w.garantiekavel_penalty_eur_per_unit, f))
    splits = int(used.sum()) - len(np.unique(arcs.demand[used]))
    total_arc = float(np.dot(arcs.cost, f))
    transport = transport_km * w.transport_eur_per_unit_km
    storage_eur = storage * w.storage_eur_per_unit_month
    readiness = total_arc - transport - storage_eur - ladder - backstop
    return CostTerms(
        transport_unit_km=round(transport_km, 3), transport=round(transport, 2), splits=splits,
        split=splits * w.split_fixed_eur, storage_months=round(storage, 3), storage=round(storage_eur, 2),
        readiness=round(max(0.0, readiness), 2), ladder=round(ladder, 2),
    )


def verify(demands: Sequence[Demand], plots: Sequence[Plot], allocations: Sequence[Allocation], w: Weights) -> list[str]:
    """Every hard-constraint breach in a plan (empty = the plan is valid). Used by tests and the bench."""
    problems: list[str] = []
    per_plot: dict[int, int] = defaultdict(int)
    per_demand: dict[int, list[int]] = defaultdict(list)
    for a in allocations:
        d, p = demands[a.demand], plots[a.plot]
        if a.units <= 0:
            problems.append(f"{d.key}->{p.key}: non-positive allocation")
        for v in pair_violations(d, p, w):
            if v == "capacity" and p.free_units > 0:
                continue
            problems.append(f"{d.key}->{p.key}: {v}")
        per_plot[a.plot] += a.units
        per_demand[a.demand].append(a.units)
    for j, units in per_plot.items():
        if units > plots[j].free_units:
            problems.append(f"{plots[j].key}: overbooked {units} > {plots[j].free_units}")
    for i, pieces in per_demand.items():
        d = demands[i]
        if sum(pieces) > d.units:
            problems.append(f"{d.key}: allocates {sum(pieces)} > {d.units} homes")
        g = min(d.min_group_size, d.units)
        if sum(1 for u in pieces if u < g) > 1:
            problems.append(f"{d.key}: more than one allocation below min group size {g}")
    return problems


def lower_bound(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, w: Weights, housed: int,
                time_limit_s: float = 60.0) -> float:
    """LP-relaxation bound of the fixed-charge problem among plans housing `housed` homes (HiGHS LP).

    Relaxing the split binaries, a complex housed over arcs a pays at least
    f * max(0, sum_a x_a / cap_a - 1) in split cost (cap_a = the most the arc can carry), so
    min  c.x + f * sum_i t_i   s.t. t_i >= sum_a x_a / cap_a - 1, t >= 0, flow limits, sum x = housed
    is a valid lower bound on the cost of every plan with that many homes housed.
    """
    import highspy

    A = len(arcs.demand)
    if A == 0:
        return 0.0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    inf = highspy.kHighsInf
    h.addVars(A + n, np.zeros(A + n), np.concatenate([arcs.cap.astype(float), np.full(n, inf)]))
    h.changeColsCost(A + n, np.arange(A + n, dtype=np.int32), np.concatenate([arcs.cost, np.full(n, w.split_fixed_eur)]))
    order = np.argsort(arcs.demand, kind="stable")
    # build rows in CSR form
    starts, idx, val, lo, hi = [], [], [], [], []

    def add(cols: np.ndarray, coefs: np.ndarray, l: float, u: float) -> None:
        starts.append(sum(len(x) for x in idx))
        idx.append(cols.astype(np.int32))
        val.append(coefs.astype(float))
        lo.append(l)
        hi.append(u)

    bounds = np.searchsorted(arcs.demand[order], np.arange(n + 1))
    for i in range(n):
        cols = order[bounds[i] : bounds[i + 1]]
        if len(cols) == 0:
            continue
        add(cols, np.ones(len(cols)), -inf, float(supply[i]))
        add(np.concatenate([[A + i], cols]), np.concatenate([[1.0], -1.0 / np.maximum(arcs.cap[cols], 1)]), -1.0, inf)
    porder = np.argsort(arcs.plot, kind="stable")
    pb = np.searchsorted(arcs.plot[porder], np.arange(len(capacity) + 1))
    for j in range(len(capacity)):
        cols = porder[pb[j] : pb[j + 1]]
        if len(cols):
            add(cols, np.ones(len(cols)), -inf, float(capacity[j]))
    add(np.arange(A), np.ones(A), float(housed), float(housed))
    h.addRows(len(lo), np.array(lo), np.array(hi), int(sum(len(x) for x in idx)), np.array(starts, dtype=np.int32),
              np.concatenate(idx), np.concatenate(val))
    h.run()
    return float(h.getInfo().objective_function_value)
