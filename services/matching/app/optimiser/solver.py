"""Allocating the homes of expiring placements to plots (herplaatsing) with real solvers.

Pure module: plain dataclasses in, plain dataclasses out; the service, the tests and
`bench/matching_solver.py` share it.

Model. Each demand (the homes of one expiring placement, all of one complex) may be
split over several plots. An arc demand -> plot exists only when every hard constraint
holds: the hard rules of `rules.py` (one registry: the scalar check, the explanation and the
vectorised feasibility all come from it).

Objective, lexicographic: (a) house as many homes as possible (the max flow); (a') with
`Weights.min_group_before_ladder` (default), the fewest pieces below a complex's minimum group size
(beyond its one remainder); (b) climb the herplaatsingsladder as little as possible: each home
carries ladder priority points per rung (gemeente 0, regio 1, provincie 2, landelijk 3 steps;
garantiekavel a backstop above every rung) and the plan's total is the least any plan with (a)
and (a') can have; (c) within that, the EUR cost:
transport (haversine x road factor x EUR/unit-km), storage months, plot readiness, a fixed
cost per extra plot a complex is split over, and a penalty per piece below the complex's
`min_group_size` beyond its one remainder: the cost terms of `costs.py`, each defined once.
Costs are reported in EUR only (priority apart).

Solving.
1. Min-cost max-flow (OR-Tools SimpleMinCostFlow) on the feasible arcs with priority + EUR per
   home: the maximum number of homes and the split-blind optimum (the baseline and warm start);
   a second one on priority alone gives the exact ladder minimum.
2. exact (small instances, the per-placement proposals): one HiGHS MIP over all arcs with split
   binaries and min-group penalties, homes housed and ladder priority held at the optimum.
3. search (national runs): from the min-cost flow, first on the ladder face (the arcs a plan at
   the ladder minimum may use, `bounds.ladder_face`), then on every arc for pieces below a minimum
   group: ejection chains take out one piece at a time (below a minimum group, then every split
   piece) and re-house its homes by a min-cost flow through the residual plan, milliseconds a move;
   then a large-neighbourhood search re-solves each split complex together with the complexes
   competing for its plots as a small MIP (warm-started, so it never gets worse; a 1 % gap first,
   exact in the end), hundredths of a second a neighbourhood; both again while they still improve. slope_scaling (dynamic slope
   scaling) is kept as a method for comparison; on the bench it did not beat the min-cost flow.
Every step keeps homes housed at the maximum and the ladder priority at its minimum.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from ortools.graph.python import max_flow, min_cost_flow

from services.matching.app.optimiser.costs import (  # RUNG_INDEX, pair_violations: also the service's and tests' import
    PER_HOME, PER_PLAN, RUNG_INDEX, RUNGS, breakdown, complex_counts, eur, eur_cost, group_of, min_group_violations,
    pair_costs, paying_pieces,
)
from services.matching.app.optimiser.pairs import Columns
from services.matching.app.optimiser.rules import feasible_block, pair_violations, plan_violations
from services.matching.app.optimiser.inputs import Demand, Plot, Weights  # also the service's and tests' import
from shared.domain import LadderRung
from shared.events.models import CostBreakdown


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
    cost: CostBreakdown
    stats: dict
    arcs: Arcs | None = None  # the (pruned) arc set the plan was chosen from
    flow: np.ndarray | None = None  # homes per arc

    def by_demand(self) -> dict[int, list[Allocation]]:
        out: dict[int, list[Allocation]] = defaultdict(list)
        for a in self.allocations:
            out[a.demand].append(a)
        return out


@dataclass
class Arcs:
    demand: np.ndarray
    plot: np.ndarray
    cap: np.ndarray
    cost: np.ndarray  # EUR per home: the sum of the per-home EUR terms (no split cost)
    priority: np.ndarray  # ladder priority points per home (not EUR)
    rung: np.ndarray
    dist: np.ndarray
    quantities: dict[str, np.ndarray]  # per per-home cost term: its quantity per home of each arc
    pairs_feasible: int = 0

    def subset(self, idx: np.ndarray) -> Arcs:
        return Arcs(self.demand[idx], self.plot[idx], self.cap[idx], self.cost[idx], self.priority[idx], self.rung[idx],
                    self.dist[idx], {k: q[idx] for k, q in self.quantities.items()})

    def eur_per_home(self, term: str, w: Weights) -> np.ndarray:
        """One per-home cost term in EUR per home of each arc."""
        return self.quantities[term] * PER_HOME[term].price(w)


def build_arcs(demands: Sequence[Demand], plots: Sequence[Plot], w: Weights, k: int | None = 20, block: int = 256) -> Arcs:
    """Feasible arcs; with `k`, each demand's k cheapest plots PLUS each plot's 2k cheapest demands."""
    cols = Columns(demands, plots, w)
    n, m = len(demands), len(plots)
    keep_d: list[np.ndarray] = []
    keep_p: list[np.ndarray] = []
    feasible_pairs = 0
    # per-plot best candidates, merged block by block
    best_p_cost = np.full((0, m), np.inf)
    best_p_row = np.zeros((0, m), dtype=np.int64)
    all_d: list[np.ndarray] = []  # every feasible pair, for the max-flow safeguard below
    all_p: list[np.ndarray] = []
    for lo in range(0, n, block):
        rows = np.arange(lo, min(n, lo + block))
        ok = feasible_block(cols, rows, w)
        costs = pair_costs(*cols.block(rows), w)
        cost = np.where(ok, costs.eur + costs.priority, np.inf)
        feasible_pairs += int(ok.sum())
        if k is not None and k < m:
            r_all, c_all = np.nonzero(ok)
            all_d.append((rows[r_all]).astype(np.int32))
            all_p.append(c_all.astype(np.int32))
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
        plot_of = np.broadcast_to(np.arange(m)[None, :], best_p_cost.shape)
        keep_p.append(np.stack([best_p_row[good], plot_of[good]]))
    if all_d:
        # Pruning must never cost housed homes (near plots are contested): add the arcs of one
        # maximum flow over ALL feasible pairs, so the pruned set still houses the maximum.
        keep_p.append(_max_flow_pairs(cols, np.concatenate(all_d), np.concatenate(all_p)))
        all_d.clear(), all_p.clear()
    pairs = np.hstack(keep_d + keep_p) if (keep_d or keep_p) else np.zeros((2, 0), dtype=np.int64)
    if pairs.size:
        pairs = np.unique(pairs, axis=1)
    return arcs_for(cols, w, pairs[0].astype(np.int64), pairs[1].astype(np.int64), feasible_pairs)


def _max_flow_pairs(cols: Columns, di: np.ndarray, pj: np.ndarray) -> np.ndarray:
    """The (demand, plot) pairs carrying flow in one maximum flow over the given pairs."""
    units, free = cols.d.units, cols.p.free_units
    n, m = len(units), len(free)
    smf = max_flow.SimpleMaxFlow()
    src, snk = n + m, n + m + 1
    smf.add_arcs_with_capacity(di, n + pj, np.minimum(units[di], free[pj]))
    smf.add_arcs_with_capacity(np.full(n, src), np.arange(n), units)
    smf.add_arcs_with_capacity(n + np.arange(m), np.full(m, snk), np.maximum(free, 0))
    if smf.solve(src, snk) != smf.OPTIMAL:
        raise RuntimeError("max flow failed")
    used = np.asarray(smf.flows(np.arange(len(di)))) > 0
    return np.stack([di[used].astype(np.int64), pj[used].astype(np.int64)])


def arcs_for(cols: Columns, w: Weights, di: np.ndarray, pj: np.ndarray, feasible_pairs: int = 0) -> Arcs:
    """The arcs of the given demand->plot pairs with every per-home cost term."""
    c = pair_costs(*cols.pairs(di, pj), w)
    cap = np.minimum(cols.d.units[di], cols.p.free_units[pj])
    return Arcs(di, pj, cap, c.eur, c.priority, c.rung, np.atleast_1d(c.dist), c.quantities, feasible_pairs)


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


def small_pieces(arcs: Arcs, flow: np.ndarray, groups: np.ndarray) -> int:
    """Pieces below their complex's minimum group size beyond its one allowed remainder."""
    return len(min_group_violations(arcs, flow, groups))


def objective(arcs: Arcs, flow: np.ndarray, groups: np.ndarray, w: Weights) -> tuple[int, int, float, float]:
    """Lexicographic objective: (-homes housed, small pieces, ladder priority, EUR cost); smaller is better.

    Small pieces (below the minimum group) rank above the ladder with `min_group_before_ladder`;
    without it they only pay their EUR penalty (the second entry is then 0).
    """
    small = small_pieces(arcs, flow, groups) if w.min_group_before_ladder else 0
    return (-int(flow.sum()), small, round(float(np.dot(arcs.priority, flow)), 3), eur_cost(arcs, flow, groups, w))


def slope_scaling(
    n: int, m: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    start: np.ndarray, time_limit_s: float, max_rounds: int = 400,
) -> tuple[np.ndarray, dict]:
    """Dynamic slope scaling (Kim & Pardalos) for the split cost and the min-group penalty.

    Every round is a min-cost MAX flow with the ladder priority on top, so homes housed never
    drop below the maximum. Each piece a per-plan term charges (`costs.paying_pieces`: every piece
    but a complex's largest for the split cost, every small piece but the remainder for the min-group
    penalty) carries that price / x per home of its x homes, so small pieces look expensive and melt away.
    """
    t0 = time.perf_counter()
    group = group_of(arcs, groups)
    flow, best = start, start.copy()
    best_obj = objective(arcs, start, groups, w)
    slope = arcs.cost.copy()
    rounds, stale = 0, 0
    while rounds < max_rounds and time.perf_counter() - t0 < time_limit_s and stale < 12:
        rounds += 1
        per_home = np.zeros(len(flow))
        for name, term in PER_PLAN.items():  # each charged piece carries its term's price spread over its homes
            paid = paying_pieces(name, arcs.demand, flow, group)
            per_home[paid] += term.price(w) / flow[paid]
        slope = np.where(flow > 0, arcs.cost + per_home, slope)
        flow = min_cost_max_flow(n, m, arcs, supply, capacity, arcs.priority + slope)
        obj = objective(arcs, flow, groups, w)
        if obj < best_obj:
            best, best_obj, stale = flow.copy(), obj, 0
        else:
            stale += 1
    return best, {"rounds": rounds, "search_s": round(time.perf_counter() - t0, 3)}


def mip_improve(
    arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    demand_ids: np.ndarray, time_limit_s: float, eur_gap: float = 1e-6,
) -> tuple[np.ndarray, dict]:
    """Re-optimise the plans of `demand_ids` exactly (HiGHS MIP), everything else fixed.

    Keeps the sub-plan's homes housed and minimises, in stages (each an exact MIP holding the
    previous stages' optima as constraints, so no weight can trade one priority for another):
    with `min_group_before_ladder` first the pieces below the minimum group, then the ladder
    priority; then the EUR cost with split binaries, the min-group penalty and one remainder piece
    per complex at the ladder priority reached (<= the incumbent's). Warm-started from the
    incumbent in every stage, so the answer is never worse than `flow`. `eur_gap`: the relative
    gap the EUR stage may stop at (a search's neighbourhood needs a better plan, not its proof).
    """
    import highspy

    in_sub = np.isin(arcs.demand, demand_ids)
    sub = np.nonzero(in_sub)[0]
    A = len(sub)
    if A == 0:
        return flow, {}
    x0 = flow[sub].astype(float)
    d_local, d_of = np.unique(arcs.demand[sub], return_inverse=True)
    D = len(d_local)
    plots_used = arcs.plot[sub]
    p_local, p_of = np.unique(plots_used, return_inverse=True)
    fixed = np.bincount(arcs.plot[~in_sub], weights=flow[~in_sub], minlength=len(capacity))
    p_cap = capacity[p_local] - fixed[p_local]
    m_a = arcs.cap[sub].astype(float)
    g_a = np.minimum(groups[arcs.demand[sub]], supply[arcs.demand[sub]]).astype(float)
    small = np.nonzero(g_a > 1)[0]
    S = len(small)
    # columns: x[A] y[A] s[S] v[S] z[D]
    ox, oy, os_, ov, oz = 0, A, 2 * A, 2 * A + S, 2 * A + 2 * S
    ncol = 2 * A + 2 * S + D
    f = w.split_fixed_eur
    cost = np.concatenate([arcs.cost[sub], np.full(A, f), np.zeros(S), np.full(S, w.min_group_penalty_eur), np.full(D, -f)])
    upper = np.concatenate([m_a, np.ones(A + 2 * S + D)])
    integer = np.concatenate([np.ones(2 * A + 2 * S), np.zeros(D)])
    r_rows: list[np.ndarray] = []
    r_cols: list[np.ndarray] = []
    r_vals: list[np.ndarray] = []
    lo: list[np.ndarray] = []
    hi: list[np.ndarray] = []
    nrow = 0
    inf = highspy.kHighsInf

    def add(rows: np.ndarray, cols: np.ndarray, vals: np.ndarray, lo_: np.ndarray, hi_: np.ndarray) -> None:
        nonlocal nrow
        r_rows.append(rows + nrow)
        r_cols.append(cols)
        r_vals.append(np.asarray(vals, dtype=float))
        lo.append(np.asarray(lo_, dtype=float))
        hi.append(np.asarray(hi_, dtype=float))
        nrow += len(lo_)

    ar = np.arange(A)
    add(d_of, ox + ar, np.ones(A), np.full(D, -inf), supply[d_local].astype(float))  # homes per complex
    add(p_of, ox + ar, np.ones(A), np.full(len(p_local), -inf), p_cap.astype(float))  # plot capacity
    add(np.concatenate([ar, ar]), np.concatenate([ox + ar, oy + ar]), np.concatenate([np.ones(A), -m_a]),
        np.full(A, -inf), np.zeros(A))  # x <= m y
    big = np.setdiff1d(ar, small)
    add(np.concatenate([np.arange(len(big))] * 2), np.concatenate([ox + big, oy + big]),
        np.concatenate([np.ones(len(big)), -np.ones(len(big))]), np.zeros(len(big)), np.full(len(big), inf))  # y only if used
    sr = np.arange(S)
    g = g_a[small]
    add(np.concatenate([sr] * 4), np.concatenate([ox + small, oy + small, os_ + sr, ov + sr]),
        np.concatenate([np.ones(S), -g, g, g]), np.zeros(S), np.full(S, inf))  # x >= g (y - s - v)
    add(d_of[small], os_ + sr, np.ones(S), np.full(D, -inf), np.ones(D))  # one remainder per complex
    add(np.concatenate([np.arange(D), d_of]), np.concatenate([oz + np.arange(D), oy + ar]),
        np.concatenate([np.ones(D), -np.ones(A)]), np.full(D, -inf), np.zeros(D))  # z <= sum y
    housed = float(x0.sum())
    add(np.zeros(A, dtype=np.int64), ox + ar, np.ones(A), np.array([housed]), np.array([housed]))  # homes housed kept
    level = arcs.priority[sub] / max(w.ladder_step_per_unit, 1.0)
    ladder_row = nrow
    add(np.zeros(A, dtype=np.int64), ox + ar, level, np.array([-inf]), np.array([float(np.dot(level, x0)) + 1e-6]))  # ladder kept
    small_row = nrow
    add(np.zeros(S, dtype=np.int64), ov + sr, np.ones(S), np.array([-inf]), np.array([inf]))  # small pieces (stage 2 on)
    rows, cols, vals = np.concatenate(r_rows), np.concatenate(r_cols), np.concatenate(r_vals)
    order = np.lexsort((cols, rows))
    rows, cols, vals = rows[order], cols[order], vals[order]
    starts = np.searchsorted(rows, np.arange(nrow)).astype(np.int32)

    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.05)))
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.setOptionValue("threads", 1)
    h.addVars(ncol, np.zeros(ncol), upper)
    h.changeColsCost(ncol, np.arange(ncol, dtype=np.int32), cost)
    icols = np.nonzero(integer)[0].astype(np.int32)
    h.changeColsIntegrality(len(icols), icols, np.full(len(icols), highspy.HighsVarType.kInteger))
    h.addRows(nrow, np.concatenate(lo), np.concatenate(hi), len(vals), starts, cols.astype(np.int32), vals)
    def columns_of(x: np.ndarray) -> np.ndarray:
        """Every column of the model for the plan x (a warm start)."""
        y = (x > 0).astype(float)
        s_, v_ = _remainder_columns(x, g, small, d_of)
        return np.concatenate([x, y, s_, v_, (np.bincount(d_of, weights=y, minlength=D) > 0).astype(float)])

    t_end = time.perf_counter() + max(time_limit_s, 0.05)
    all_cols = np.arange(ncol, dtype=np.int32)

    def stage(objective_cost: np.ndarray, start_cols: np.ndarray, share: float) -> np.ndarray:
        """One exact stage from a warm start; returns the best columns found (the start if none better)."""
        h.changeColsCost(ncol, all_cols, objective_cost)
        h.setOptionValue("time_limit", float(max(0.05, share * (t_end - time.perf_counter()))))
        start = highspy.HighsSolution()
        start.col_value = list(start_cols)
        start.value_valid = True
        h.setSolution(start)
        h.run()
        found = np.asarray(h.getSolution().col_value)
        return found if found.size == ncol else start_cols

    cols_now = columns_of(x0)
    stats: dict = {}
    if w.min_group_before_ladder and S and cols_now[ov:ov + S].sum() > 0:
        # stage 1: the fewest small pieces, the ladder free (groups rank above it). Each small piece
        # weighs more than the whole ladder range of the sub-plan can differ (`spread`), so the
        # optimum has the fewest small pieces and, among those, the least ladder: lexicographic, exact.
        h.changeRowBounds(ladder_row, -inf, inf)
        # (which complex houses how many homes may change too: the range is 0 .. each home at its top level)
        top = np.zeros(D)
        np.maximum.at(top, d_of, level)
        spread = float(np.dot(supply[d_local], top)) + 1.0
        cols_now = columns_of(np.rint(stage(np.concatenate([level, np.zeros(A + S), np.full(S, spread), np.zeros(D)]),
                                            cols_now, 1 / 2)[:A]))
        stats["min_group_status"] = h.modelStatusToString(h.getModelStatus())
        stats["min_group_fewest"] = int(cols_now[ov:ov + S].sum())
        h.changeRowBounds(small_row, -inf, stats["min_group_fewest"] + 1e-6)
        if stats["min_group_status"] != "Optimal":
            # stage 2 (stage 1 stopped early): the least ladder priority with that few small pieces
            cols_now = columns_of(np.rint(stage(np.concatenate([level, np.zeros(A + 2 * S + D)]), cols_now, 1 / 2)[:A]))
            stats["ladder_status"] = h.modelStatusToString(h.getModelStatus())
        stats["ladder_at_fewest"] = float(np.dot(arcs.priority[sub], cols_now[:A]))
        h.changeRowBounds(ladder_row, -inf, float(np.dot(level, cols_now[:A])) + 1e-6)
    if w.min_group_before_ladder and S:
        # groups rank above EUR: the EUR stage may not buy a saving with a piece below a minimum group
        h.changeRowBounds(small_row, -inf, float(cols_now[ov:ov + S].sum()) + 1e-6)
    # last stage: the EUR cost at those priorities
    h.setOptionValue("mip_rel_gap", eur_gap)
    cols_now = stage(cost, cols_now, 1.0)
    info = h.getInfo()
    out = flow  # unchanged (the same object) unless the MIP found better
    candidate = flow.copy()
    candidate[sub] = np.rint(cols_now[:A]).astype(np.int64)
    if objective(arcs, candidate, groups, w) < objective(arcs, flow, groups, w):
        out = candidate
    gap = float(info.mip_gap)
    bound = float(info.mip_dual_bound)
    stats.update({"mip_status": h.modelStatusToString(h.getModelStatus()), "mip_gap": gap if math.isfinite(gap) else None,
                  "mip_dual_bound": bound if math.isfinite(bound) else None,
                  "mip_nodes": int(info.mip_node_count), "mip_arcs": A})
    return out, stats


def _remainder_columns(x: np.ndarray, g: np.ndarray, small: np.ndarray, d_of: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For a plan x: per small-group arc, is it the complex's one remainder (s) or a paying small piece (v)."""
    s, v = np.zeros(len(small)), np.zeros(len(small))
    used = np.nonzero((x[small] > 0) & (x[small] < g))[0]
    if len(used):
        keep = used[np.lexsort((-x[small][used], d_of[small][used]))]
        first = np.ones(len(keep), dtype=bool)
        first[1:] = d_of[small][keep][1:] != d_of[small][keep][:-1]
        s[keep[first]] = 1.0
        v[keep[~first]] = 1.0
    return s, v


def consolidation_moves(
    arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
) -> tuple[np.ndarray, dict]:
    """Move a split complex's smaller pieces into residual capacity of its other arcs when that pays.

    A move keeps the homes housed and never raises the ladder priority; it is taken when the
    complex's own EUR terms (per-home cost, split fixed cost, min-group penalty) drop.
    """
    flow = flow.copy()
    residual = capacity - np.bincount(arcs.plot, weights=flow, minlength=len(capacity)).astype(np.int64)
    order = np.argsort(arcs.demand, kind="stable")
    bounds = np.searchsorted(arcs.demand[order], np.arange(len(supply) + 1))
    pieces = np.bincount(arcs.demand[flow > 0], minlength=len(supply))

    def own_cost(idx: np.ndarray, x: np.ndarray, g: int) -> float:
        return eur(float(np.dot(arcs.cost[idx], x)), complex_counts(x, g), w)

    moves = 0
    for i in np.nonzero(pieces > 1)[0]:
        idx = order[bounds[i] : bounds[i + 1]]
        g = int(groups[i])
        improved = True
        while improved:
            improved = False
            x = flow[idx]
            current = own_cost(idx, x, g)
            for s_ in np.argsort(np.where(x > 0, x, np.iinfo(np.int64).max))[: int((x > 0).sum())]:
                best, best_t = current - 1e-6, -1
                for t_ in range(len(idx)):
                    a, b = idx[s_], idx[t_]
                    if t_ == s_ or arcs.priority[b] > arcs.priority[a] or residual[arcs.plot[b]] < x[s_] or arcs.cap[b] < x[t_] + x[s_]:
                        continue
                    y = x.copy()
                    y[t_] += y[s_]
                    y[s_] = 0
                    c = own_cost(idx, y, g)
                    if c < best:
                        best, best_t = c, t_
                if best_t >= 0:
                    a, b, units = idx[s_], idx[best_t], int(x[s_])
                    flow[a] -= units
                    flow[b] += units
                    residual[arcs.plot[a]] += units
                    residual[arcs.plot[b]] -= units
                    moves += 1
                    improved = True
                    break
    return flow, {"consolidation_moves": moves}


# The relative gap a neighbourhood's EUR stage first stops at. Its objective counts every home's EUR,
# of which the splits are a few per cent, and the LP bound of split binaries is weak: proving a
# neighbourhood optimal is most of a MIP's time. At 1 % a neighbourhood takes a quarter of the time
# and only those with much to gain are searched at length, four times as many in the time (national
# bench, 4 s: EUR 331.3 M vs 331.5-331.7 M; at 10 % HiGHS stops at the warm start). When every
# neighbourhood has been seen, the gap is cut tenfold (down to exact) and they are seen again.
LNS_EUR_GAP = 1e-2


def consolidation_search(
    arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    time_limit_s: float, neighbourhood: int = 20, sub_time_s: float = 0.3, seed: int = 0, only_small: bool = False,
) -> tuple[np.ndarray, dict]:
    """Large-neighbourhood search: re-solve split complexes with their competitors exactly (MIP).

    A neighbourhood is a split (or min-group-offending) complex, the plots it uses and could use
    most cheaply, and the complexes sharing those plots; `mip_improve` re-plans them together,
    which moves a small piece into another plot's residual capacity or swaps pieces between
    complexes. Homes housed and the ladder priority never get worse.
    """
    t0 = time.perf_counter()
    rng = np.random.default_rng(seed)
    by_demand = np.argsort(arcs.demand, kind="stable")
    d_bounds = np.searchsorted(arcs.demand[by_demand], np.arange(len(supply) + 1))
    by_plot = np.argsort(arcs.plot, kind="stable")
    p_bounds = np.searchsorted(arcs.plot[by_plot], np.arange(len(capacity) + 1))
    tried: set[int] = set()
    rounds = improved = 0
    gap = LNS_EUR_GAP
    while time.perf_counter() - t0 < time_limit_s:
        used = flow > 0
        pieces = np.bincount(arcs.demand[used], minlength=len(supply))
        bad = np.zeros(len(supply), dtype=np.int64)
        np.add.at(bad, arcs.demand[min_group_violations(arcs, flow, groups)], 1)
        seeds = [int(i) for i in np.nonzero((pieces > 1) | (bad > 0))[0] if int(i) not in tried]
        if not seeds and gap > 2e-6 and tried:  # every neighbourhood looked at: again, closer to their optima (2e-6: float tenths)
            gap, tried = max(gap / 10, 1e-6), set()
            continue
        if not seeds:
            break
        if w.min_group_before_ladder or only_small:  # groups rank above the ladder and EUR: their offenders first
            seeds = [i for i in seeds if bad[i] > 0] or ([] if only_small else seeds)
            if not seeds:
                break
        i = seeds[int(rng.integers(len(seeds)))]
        tried.add(i)
        own = by_demand[d_bounds[i] : d_bounds[i + 1]]
        cheapest = own[np.argsort(arcs.priority[own] + arcs.cost[own])[:6]]
        plots = np.unique(np.concatenate([arcs.plot[own[flow[own] > 0]], arcs.plot[cheapest]]))
        members: dict[int, float] = {i: -1.0}
        for j in plots:
            arcs_j = by_plot[p_bounds[j] : p_bounds[j + 1]]
            for a in arcs_j[flow[arcs_j] > 0]:
                members.setdefault(int(arcs.demand[a]), float(arcs.dist[a]))
        if len(members) > neighbourhood:
            members = dict(sorted(members.items(), key=lambda kv: kv[1])[:neighbourhood])
        rounds += 1
        new, _ = mip_improve(arcs, flow, supply, capacity, groups, w, np.array(sorted(members)),
                             min(sub_time_s, max(0.05, time_limit_s - (time.perf_counter() - t0))), gap)
        if new is not flow:
            improved += 1
            flow = new
            tried.difference_update(members)  # their situation changed: worth another look
            tried.add(i)
    return flow, {"lns_rounds": rounds, "lns_improved": improved, "lns_s": round(time.perf_counter() - t0, 3)}


def ejection_chains(
    arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    deadline: float, target: str = "min_group", keep_ladder: bool = False, rounds: int = 3,
) -> tuple[np.ndarray, dict]:
    """Take out each piece a per-plan term charges and re-house its homes by an ejection chain (min-cost flow).

    `target`: "min_group" (pieces below a minimum group) or "split" (every piece but a complex's largest).
    Removing a piece of u homes frees u places on its plot and leaves u homes to house again
    somewhere, so that homes housed stay at the maximum: u units from the complexes with homes
    left unhoused (the piece's own complex among them) to the plots with free places, through the
    residual graph of the plan, where a home may push another complex's home to another of its
    plots or let a complex with homes left over take its place. Costs: a new piece below a minimum
    group, or a piece cut below one, costs more than any ladder difference; then the ladder points,
    then EUR per home added (with the split cost of a new piece). Exact network simplex, hundredths
    of a second on a national plan where one MIP neighbourhood takes tenths; each result is judged
    by the exact objective and kept only when lexicographically better (`keep_ladder`: and at no
    more ladder points, for the plan at the ladder minimum).
    """
    t0 = time.perf_counter()
    n, m = len(supply), len(capacity)
    g_arc = groups[arcs.demand]
    by_demand = np.argsort(arcs.demand, kind="stable")
    by_plot = np.argsort(arcs.plot, kind="stable")
    index = (by_demand, np.searchsorted(arcs.demand[by_demand], np.arange(n + 1)),
             by_plot, np.searchsorted(arcs.plot[by_plot], np.arange(m + 1)))
    group = group_of(arcs, groups)
    tried = improved = 0
    for _ in range(rounds):
        pieces = paying_pieces(target, arcs.demand, flow, group)
        if target == "min_group" and len(pieces):
            # every piece below the group of an offending complex, its remainder too: taking the
            # remainder out may be what lets the other piece grow to a group
            offending = np.zeros(len(supply), dtype=bool)
            offending[arcs.demand[pieces]] = True
            pieces = np.nonzero(offending[arcs.demand] & (flow > 0) & (flow < g_arc))[0]
        progress = False
        for a in pieces[np.argsort(flow[pieces], kind="stable")]:
            if time.perf_counter() > deadline:
                break
            u = int(flow[a])
            if u <= 0:  # an earlier chain emptied it
                continue
            tried += 1
            x = flow.copy()
            x[a] = 0
            new = _reroute(arcs, x, supply, capacity, g_arc, w, u, a, n, m, index, target == "split")
            if new is None:
                continue
            # the objective is a sum over complexes: compare the complexes the chain changed only
            changed = np.unique(arcs.demand[np.nonzero(new != flow)[0]])
            part = np.concatenate([index[0][index[1][k] : index[1][k + 1]] for k in changed])
            sub = Arcs(arcs.demand[part], arcs.plot[part], arcs.cap[part], arcs.cost[part], arcs.priority[part],
                       arcs.rung[part], arcs.dist[part], {})
            before, after = objective(sub, flow[part], groups, w), objective(sub, new[part], groups, w)
            better = after[:3] < before[:3] or (after[:3] == before[:3] and after[3] < before[3] - 0.005)  # not float noise
            if better and (not keep_ladder or after[2] <= before[2]):
                flow, progress = new, True
                improved += 1
        if not progress or time.perf_counter() > deadline:
            break
    return flow, {f"chains_{target}_tried": tried, f"chains_{target}_improved": improved,
                  f"chains_{target}_s": round(time.perf_counter() - t0, 3)}


FACE_GROUP_SHARE = 0.5  # of the time: groups kept on the face, the ladder at its minimum
CLIMB_SHARE = 0.5  # the face search's share when small pieces are left for the climb
# Above this many arcs a chain searches the plan around its piece only (a quarter as many arcs): for a
# split a nearby chain is as good and three times as fast on the national face (more moves in the
# same time: EUR 331.7 M vs 332.2 M at 4 s); a small piece needs the whole face where it is smaller.
SPLIT_REGION_ARCS = 3_000
CHAIN_REGION_ARCS = 12_000
# A chain's small piece costs this many times the dearest arc's ladder points + EUR + a split: more than the
# ladder and EUR along any chain can differ (the exact objective judges the result anyway).
SMALL_SCALE = 50.0
CHAIN_EUR_UNIT = 100.0  # integer costs for the chains' simplex: hundreds of euros (small numbers: a faster simplex)


def _region(arcs: Arcs, x: np.ndarray, spare_home: np.ndarray, index: tuple, i: int, limit: int) -> np.ndarray:
    """The arcs around complex i: its plots, the complexes on them or with homes left for them, their plots, ..."""
    by_demand, d_bounds, by_plot, p_bounds = index
    seen_d = np.zeros(len(d_bounds) - 1, dtype=bool)
    seen_p = np.zeros(len(p_bounds) - 1, dtype=bool)
    frontier = np.array([i])
    seen_d[i] = True
    parts: list[np.ndarray] = []
    total = 0
    while len(frontier) and (not parts or total < limit):
        own = np.concatenate([by_demand[d_bounds[k] : d_bounds[k + 1]] for k in frontier])
        parts.append(own)
        total += len(own)
        plots = np.unique(arcs.plot[own])
        plots = plots[~seen_p[plots]]
        seen_p[plots] = True
        if not len(plots):
            break
        near = np.concatenate([by_plot[p_bounds[j] : p_bounds[j + 1]] for j in plots])
        near = near[(x[near] > 0) | (spare_home[arcs.demand[near]] > 0)]
        frontier = np.unique(arcs.demand[near])
        frontier = frontier[~seen_d[frontier]]
        seen_d[frontier] = True
    return np.concatenate(parts)


def _reroute(arcs: Arcs, x: np.ndarray, supply: np.ndarray, capacity: np.ndarray, g_arc: np.ndarray, w: Weights,
             u: int, banned: int, n: int, m: int, index: tuple | None = None, split: bool = False) -> np.ndarray | None:
    """House `u` more homes in plan `x` along the cheapest ejection chains (arc `banned` unused); None if none.

    With `index` (arcs by complex and by plot) and more than CHAIN_REGION_ARCS arcs (SPLIT_REGION_ARCS
    for a `split` piece), only the arcs around the banned arc's complex may change: a chain is short,
    and a large plan's whole graph takes a network simplex ten times as long.
    """
    spare_home = supply - np.bincount(arcs.demand, weights=x, minlength=n).astype(np.int64)
    spare_place = capacity - np.bincount(arcs.plot, weights=x, minlength=m).astype(np.int64)
    small = SMALL_SCALE * float(arcs.priority.max(initial=0.0) + arcs.cost.max(initial=0.0) + w.split_fixed_eur)
    threshold = SPLIT_REGION_ARCS if split else CHAIN_REGION_ARCS
    if index is not None and len(arcs.demand) > threshold:
        r = _region(arcs, x, spare_home, index, int(arcs.demand[banned]), threshold // 4)
    else:
        r = np.arange(len(arcs.demand))
    r = r[r != banned]
    d, p, xr, g, prio = arcs.demand[r], arcs.plot[r], x[r], g_arc[r], arcs.priority[r]
    ds, d_node = np.unique(d, return_inverse=True)
    ps, p_node = np.unique(p, return_inverse=True)
    # nodes numbered within the region (complexes, plots, source, sink): the simplex works on every node it is given
    nd, npl = len(ds), len(ps)
    src, snk = nd + npl, nd + npl + 1
    # a new piece of fewer homes than the group, or one cut below it (not to zero), is a small piece
    opens = xr == 0
    fwd_cost = prio + arcs.cost[r] + np.where(opens, w.split_fixed_eur / u, 0.0) \
        + np.where(opens & (g > u), small / u, 0.0) + np.where(~opens & (xr < g) & (xr + u >= g), -small / u, 0.0)
    # Taking homes off an arc credits its ladder points but not its EUR: the plan is not the optimum of
    # the per-home EUR (splits cost), so crediting it would let the flow chase cycles all over the plan.
    back_cost = -prio + np.where((xr > u) & (xr - u < g), small / u, 0.0)
    fwd_cost = np.maximum(fwd_cost, prio)  # a small piece grown to its group: no cycle below zero
    tail = np.concatenate([d_node, nd + p_node, np.full(nd, src), nd + np.arange(npl)])
    head = np.concatenate([nd + p_node, d_node, np.arange(nd), np.full(npl, snk)])
    cap = np.concatenate([arcs.cap[r] - xr, xr, np.maximum(spare_home[ds], 0), np.maximum(spare_place[ps], 0)])
    cost = np.concatenate([fwd_cost, back_cost, np.zeros(len(ds) + len(ps))])
    idx = np.nonzero(cap > 0)[0]
    mcf = min_cost_flow.SimpleMinCostFlow()
    mcf.add_arcs_with_capacity_and_unit_cost(tail[idx], head[idx], cap[idx].astype(np.int64),
                                             np.rint(cost[idx] / CHAIN_EUR_UNIT).astype(np.int64))
    supplies = np.zeros(nd + npl + 2, dtype=np.int64)
    supplies[src], supplies[snk] = u, -u
    mcf.set_nodes_supplies(np.arange(nd + npl + 2), supplies)
    if mcf.solve() != mcf.OPTIMAL:
        return None
    f = np.zeros(len(tail), dtype=np.int64)
    f[idx] = np.asarray(mcf.flows(np.arange(len(idx))), dtype=np.int64)
    out = x.copy()
    out[r] += f[: len(r)] - f[len(r) : 2 * len(r)]
    if (out < 0).any() or (out > arcs.cap).any():
        return None
    return out


def face_search(
    n: int, arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    deadline: float,
) -> tuple[np.ndarray, dict]:
    """The search (ejection chains, then MIP neighbourhoods) on the ladder face first, then (small pieces left) on every arc.

    Every plan housing the maximum at the least ladder priority uses only the arcs of the ladder
    face (`bounds.ladder_face`: complementary slackness of that linear programme), about a fifth
    of the arcs on the bench: neighbourhood MIPs there are smaller, faster and need no ladder
    row to stay at the minimum. Pieces below the minimum group rank above the ladder, so where
    some are left the last part of the time searches every arc (it may climb the ladder to remove them),
    then lowers the EUR at the ladder reached.
    """
    from services.matching.app.optimiser.bounds import face_arcs, ladder_face

    stats: dict = {}
    face = ladder_face(n, arcs, supply, capacity, int(flow.sum()))
    on = None if face is None else face.free | face.full
    if on is None or flow[~on].any() or float(np.dot(arcs.priority, flow)) > face.ladder_min + 1e-6 * max(1.0, face.ladder_min):
        flow, extra = chains_then_lns(arcs, flow, supply, capacity, groups, w, deadline)
        return flow, {**extra, "face_arcs": None}
    keep, face_sub, _ = face_arcs(face, arcs, supply, capacity)
    if (flow[keep] > face_sub.cap).any() or int(flow[keep].sum()) != int(flow.sum()):  # numerically off the face: all arcs
        flow, extra = chains_then_lns(arcs, flow, supply, capacity, groups, w, deadline)
        return flow, {**extra, "face_arcs": None}
    now = time.perf_counter()
    face_flow, extra = ejection_chains(face_sub, flow[keep], supply, capacity, groups, w,
                                       now + FACE_GROUP_SHARE * (deadline - now), "min_group", keep_ladder=True)
    stats.update({f"face_{k}": v for k, v in extra.items()})
    # small pieces the face cannot remove are left for the last part of the time, on every arc
    share = CLIMB_SHARE if w.min_group_before_ladder and small_pieces(face_sub, face_flow, groups) else 1.0
    face_flow, extra = chains_then_lns(face_sub, face_flow, supply, capacity, groups, w,
                                       time.perf_counter() + share * (deadline - time.perf_counter()), keep_ladder=True,
                                       groups_first=False)
    if share < 1.0 and not small_pieces(face_sub, face_flow, groups) and deadline - time.perf_counter() > 0.1:
        # the face search removed them after all: the time kept for the climb goes to the face too
        face_flow, more = chains_then_lns(face_sub, face_flow, supply, capacity, groups, w, deadline, keep_ladder=True,
                                          groups_first=False)
        extra = {k: v + more.get(k, 0) for k, v in extra.items()}
    flow = np.zeros_like(flow)
    flow[keep] = face_flow
    stats.update({"face_arcs": len(keep), **{f"face_{k}": v for k, v in extra.items()},
                  # the plan at the ladder minimum before any climb for groups: its cost is what the face bound bounds
                  "face_plan_eur": round(eur_cost(arcs, flow, groups, w), 2), "face_plan_small_pieces": small_pieces(arcs, flow, groups)})
    if w.min_group_before_ladder and small_pieces(arcs, flow, groups) and deadline - time.perf_counter() > 0.1:
        flow, extra = ejection_chains(arcs, flow, supply, capacity, groups, w, deadline, "min_group")
        stats.update(extra)
        if small_pieces(arcs, flow, groups) and deadline - time.perf_counter() > 0.1:
            flow, extra = consolidation_search(arcs, flow, supply, capacity, groups, w, deadline - time.perf_counter(),
                                               only_small=True)
            stats.update(extra)
        if deadline - time.perf_counter() > 0.1:  # groups done with time left: the EUR, at the ladder reached
            flow, extra = chains_then_lns(arcs, flow, supply, capacity, groups, w, deadline, keep_ladder=True,
                                          groups_first=False)
            stats.update({f"climbed_{k}": v for k, v in extra.items()})
    return flow, stats


def chains_then_lns(
    arcs: Arcs, flow: np.ndarray, supply: np.ndarray, capacity: np.ndarray, groups: np.ndarray, w: Weights,
    deadline: float, keep_ladder: bool = False, chain_share: float = 0.8, groups_first: bool = True,
) -> tuple[np.ndarray, dict]:
    """Ejection chains (small pieces, then splits) for up to `chain_share` of the time, then the MIP neighbourhoods.

    Measured on the national bench: the chains take a piece out in milliseconds and merge most
    splits a single move can; the exact MIP neighbourhoods then find the moves that need several
    complexes re-planned at once. When both have run out of moves with time left, again: each
    changes what the other can do.
    """
    stats: dict = {}
    if groups_first:
        flow, extra = ejection_chains(arcs, flow, supply, capacity, groups, w, deadline, "min_group", keep_ladder)
        stats.update(extra)
    passes = 0
    while time.perf_counter() < deadline - 0.05:
        passes += 1
        now = time.perf_counter()
        flow, chains = ejection_chains(arcs, flow, supply, capacity, groups, w, now + chain_share * (deadline - now),
                                       "split", keep_ladder)
        flow, lns = consolidation_search(arcs, flow, supply, capacity, groups, w, deadline - time.perf_counter(),
                                         seed=passes - 1)
        for k, v in {**chains, **lns}.items():
            stats[k] = stats.get(k, 0) + v
        if not chains["chains_split_improved"] and not lns["lns_improved"]:
            break
    stats["passes"] = passes
    return flow, {k: round(v, 3) if isinstance(v, float) else v for k, v in stats.items()}


def _start_is_optimal(n: int, arcs: Arcs, flow: np.ndarray, groups: np.ndarray) -> bool:
    """The min-cost max flow on ladder priority + EUR, at the ladder minimum, with no complex split and no
    small piece, is optimal for the whole objective: no plan houses more, none has fewer small pieces or
    less ladder priority, and among those at that priority none costs less per home (else its
    priority + cost would be lower) and none pays less split cost or min-group penalty (it pays none).
    Up to the flow's cost rounding (tenths of a euro per home)."""
    used = flow > 0
    if np.bincount(arcs.demand[used], minlength=n).max(initial=0) > 1:
        return False
    return small_pieces(arcs, flow, groups) == 0


def ladder_minimum(n: int, m: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray) -> float:
    """The least ladder priority any max-flow plan can have (exact: a min-cost max flow on priority alone)."""
    flow = min_cost_max_flow(n, m, arcs, supply, capacity, arcs.priority / COST_SCALE)
    return float(np.dot(arcs.priority, flow))


def solve(
    demands: Sequence[Demand],
    plots: Sequence[Plot],
    w: Weights,
    *,
    k: int | None = 20,
    method: str = "auto",
    time_limit_s: float = 10.0,
    arcs: Arcs | None = None,
    per_demand_s: float | None = None,
    floor_s: float = 0.0,
) -> Solution:
    """Allocate the demands' homes to the plots. method: auto | exact | search | slope_scaling | mcf.

    exact: one MIP over every arc; search: slope scaling, then a MIP over the whole pruned arc set
    when it is small enough, then the consolidation search (MIP neighbourhoods) for the time left.
    `per_demand_s`: the budget is this per demand a search can improve (between `floor_s` and
    `time_limit_s`): not one without a feasible arc (most of a backlog slice may have none) and, from a
    min-cost start at the ladder minimum, only one split or holding a small piece.
    auto: no search at all when the min-cost flow is already optimal (see `_start_is_optimal`).
    """
    t0 = time.perf_counter()
    n, m = len(demands), len(plots)
    arcs = arcs or build_arcs(demands, plots, w, k=k)
    t_arcs = time.perf_counter() - t0
    supply = np.array([d.units for d in demands], dtype=np.int64)
    capacity = np.array([max(0, p.free_units) for p in plots], dtype=np.int64)
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands], dtype=np.int64), np.maximum(supply, 1))
    base = min_cost_max_flow(n, m, arcs, supply, capacity, arcs.priority + arcs.cost)
    max_flow = int(base.sum())
    stats: dict = {"arcs": int(len(arcs.demand)), "feasible_pairs": arcs.pairs_feasible, "arc_build_s": round(t_arcs, 3)}
    start_optimal = False
    # what a search can improve: every demand with an arc; from a min-cost start at the ladder minimum
    # only the split cost and the min-group penalty, i.e. the demands split or holding a small piece
    searchable = np.bincount(arcs.demand, minlength=n) > 0 if len(arcs.demand) else np.zeros(n, dtype=bool)
    if method != "mcf" and len(arcs.demand):
        # the ladder is a priority: start from a plan at the exact ladder minimum
        ladder_min = min_cost_max_flow(n, m, arcs, supply, capacity, arcs.priority / COST_SCALE)
        if float(np.dot(arcs.priority, ladder_min)) < float(np.dot(arcs.priority, base)) - 1e-6:
            base = ladder_min
        else:
            start_optimal = _start_is_optimal(n, arcs, base, groups)
            used = base > 0
            searchable = np.bincount(arcs.demand[used], minlength=n) > 1
            searchable[arcs.demand[min_group_violations(arcs, base, groups)]] = True
        stats["ladder_minimum"] = float(np.dot(arcs.priority, ladder_min))
    searched = method == "auto"  # an explicit method is run as asked (the tests' exact optimum, the bench)
    if method == "auto":
        method = "exact" if len(arcs.demand) <= 3000 else "search"
    stats["searchable_demands"] = int(searchable.sum())
    if per_demand_s is not None:
        time_limit_s = min(time_limit_s, max(floor_s, per_demand_s * stats["searchable_demands"]))
    deadline = t0 + time_limit_s
    stats["time_limit_s"] = round(time_limit_s, 3)
    if start_optimal and searched:
        flow = base.copy()
        method = "mcf (optimal: no split, no small piece)"
    elif len(arcs.demand) == 0:
        flow = np.zeros(0, dtype=np.int64)
        method = "none (no feasible arc)"
    elif method == "mcf":
        flow = base.copy()
    elif method == "exact":
        flow, extra = mip_improve(arcs, base, supply, capacity, groups, w, np.arange(n), deadline - time.perf_counter())
        stats.update(extra)
    elif method == "slope_scaling":
        flow, extra = slope_scaling(n, m, arcs, supply, capacity, groups, w, base, deadline - time.perf_counter())
        stats.update(extra)
    elif method == "search":
        # Measured on the bench instances: slope scaling from the min-cost flow made plans worse
        # (the ladder pins most of the plan), and one MIP over ~28k arcs did not finish its root
        # LP within seconds; small exact neighbourhoods improve steadily, so the time goes there.
        if len(arcs.demand) <= 3000:
            flow, extra = mip_improve(arcs, base, supply, capacity, groups, w, np.arange(n), deadline - time.perf_counter())
        else:
            flow, extra = consolidation_moves(arcs, base, supply, capacity, groups, w)
            stats.update(extra)
            flow, extra = face_search(n, arcs, flow, supply, capacity, groups, w, deadline)
        stats.update(extra)
    else:
        raise ValueError(f"unknown method {method}")
    stats["method"] = method
    stats["min_group_pieces"] = small_pieces(arcs, flow, groups) if len(flow) else 0
    if stats["min_group_pieces"] == 0:
        stats["min_group_fewest"] = 0  # none left: trivially the fewest
    elif "min_group_fewest" in stats and stats.get("min_group_status") != "Optimal":
        del stats["min_group_fewest"]  # stage 1 stopped early: only the plan's count, not a proof
    allocations = [
        Allocation(int(arcs.demand[a]), int(arcs.plot[a]), int(flow[a]), RUNGS[int(arcs.rung[a])], float(arcs.dist[a]))
        for a in np.nonzero(flow > 0)[0]
    ]
    housed = int(flow.sum())
    cost = breakdown(arcs, flow, w, groups)
    stats["wall_s"] = round(time.perf_counter() - t0, 3)
    return Solution(allocations, housed, max_flow, int(supply.sum()) - housed, cost, stats, arcs, flow)


def verify(demands: Sequence[Demand], plots: Sequence[Plot], allocations: Sequence[Allocation], w: Weights) -> list[str]:
    """Every hard-constraint breach in a plan (empty = the plan is valid). Used by tests and the bench."""
    problems: list[str] = []
    per_plot: dict[int, int] = defaultdict(int)
    per_demand: dict[int, list[int]] = defaultdict(list)
    broken = plan_violations(demands, plots, np.array([a.demand for a in allocations], dtype=np.int64),
                             np.array([a.plot for a in allocations], dtype=np.int64), w)
    for a, rules in zip(allocations, broken):
        d, p = demands[a.demand], plots[a.plot]
        if a.units <= 0:
            problems.append(f"{d.key}->{p.key}: non-positive allocation")
        for v in rules:
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
    return problems  # min group size is an objective term (penalised), not a hard constraint


def lower_bound(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, w: Weights, housed: int,
                time_limit_s: float = 600.0, ladder_max: float | None = None, with_duals: bool = False,
                arc_lower: np.ndarray | None = None, plot_full: np.ndarray | None = None,
                complex_full: np.ndarray | None = None, complex_min: np.ndarray | None = None,
                plot_min: np.ndarray | None = None):
    """LP-relaxation bound of the fixed-charge problem among plans housing `housed` homes (HiGHS LP).

    Relaxing the split binaries, a complex housed over arcs a pays at least
    f * max(0, sum_a x_a / cap_a - 1) in split cost (cap_a = the most the arc can carry), so
    min  c.x + f * sum_i t_i   s.t. t_i >= sum_a x_a / cap_a - 1, t >= 0, flow limits, sum x = housed
    is a valid lower bound on the EUR cost of every plan with that many homes housed (and, with
    `ladder_max`, at most that ladder priority: the lexicographic optimum's).
    None when HiGHS stops before the LP optimum: an unfinished simplex value is no bound.
    `with_duals`: (bound, per-plot capacity duals, housed dual, ladder dual) for `bounds.lagrangian_bound`.
    `arc_lower`, `plot_full`, `complex_full`: arcs at least this full, plots filled, complexes housed in full
    (the ladder face of `bounds.ladder_face`); `complex_min`, `plot_min`: the fewest homes per complex, the least
    load per plot (the near-face of `bounds.near_face`).
    """
    import highspy

    A = len(arcs.demand)
    if A == 0:
        return (0.0, np.zeros(len(capacity)), 0.0, 0.0) if with_duals else 0.0
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit_s))
    inf = highspy.kHighsInf
    lower = np.zeros(A) if arc_lower is None else arc_lower.astype(float)
    h.addVars(A + n, np.concatenate([lower, np.zeros(n)]), np.concatenate([arcs.cap.astype(float), np.full(n, inf)]))
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
        least = float(supply[i]) if complex_full is not None and complex_full[i] else \
            float(complex_min[i]) if complex_min is not None and complex_min[i] > 0 else -inf
        add(cols, np.ones(len(cols)), least, float(supply[i]))
        add(np.concatenate([[A + i], cols]), np.concatenate([[1.0], -1.0 / np.maximum(arcs.cap[cols], 1)]), -1.0, inf)
    porder = np.argsort(arcs.plot, kind="stable")
    pb = np.searchsorted(arcs.plot[porder], np.arange(len(capacity) + 1))
    cap_row = np.full(len(capacity), -1)
    for j in range(len(capacity)):
        cols = porder[pb[j] : pb[j + 1]]
        if len(cols):
            cap_row[j] = len(lo)
            least = float(capacity[j]) if plot_full is not None and plot_full[j] else \
                float(plot_min[j]) if plot_min is not None and plot_min[j] > 0 else -inf
            add(cols, np.ones(len(cols)), least, float(capacity[j]))
    housed_row = len(lo)
    add(np.arange(A), np.ones(A), float(housed), float(housed))
    if ladder_max is not None:
        add(np.arange(A), arcs.priority / max(w.ladder_step_per_unit, 1.0), -inf, ladder_max / max(w.ladder_step_per_unit, 1.0) + 1e-6)
    h.addRows(len(lo), np.array(lo), np.array(hi), int(sum(len(x) for x in idx)), np.array(starts, dtype=np.int32),
              np.concatenate(idx), np.concatenate(val))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    value = float(h.getInfo().objective_function_value)
    if not with_duals:
        return value
    dual = np.asarray(h.getSolution().row_dual)
    y_cap = np.where(cap_row >= 0, dual[np.maximum(cap_row, 0)], 0.0)
    y_ladder = float(dual[housed_row + 1]) if ladder_max is not None else 0.0  # per ladder step (the row's unit)
    return value, y_cap, float(dual[housed_row]), y_ladder  # signs as HiGHS gives them: <= 0 on <= rows
