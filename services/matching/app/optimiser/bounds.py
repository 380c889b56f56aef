"""Lower bounds on the EUR cost of a plan: how far from the best possible a plan can be (pure).

The bound holds for every plan over the same arcs that houses `housed` homes with at most the
plan's ladder points: at the ladder minimum over the ladder face (1. below), above it (a plan that
climbed to keep groups together) over the near-face (`near_face`: reduced-cost fixing on the same
ladder LP, which narrows the arcs and their loads to what a plan within the ladder budget can use).

The LP relaxation (`solver.lower_bound`) lets a complex split for free: a fraction of a split
costs a fraction of the fixed charge. Two steps make it stronger:

1. The ladder face. Housing the maximum at the least ladder priority is a linear programme; every
   plan that does is one of its optima, so by complementary slackness with one optimal dual it
   uses no arc of positive reduced cost, fills every arc of negative reduced cost, fills every
   plot whose capacity dual is non-zero and houses every complex whose supply dual is non-zero.
   That describes the plans at the ladder minimum exactly, arc by arc, instead of through one
   summed ladder row: a complex's own problem then already knows which plots its rungs allow.
2. The Lagrangian bound over that face: the plot capacities and the homes housed priced by
   multipliers (started from the LP's duals), then each complex's own problem solved EXACTLY,
   split fixed charge included (which plots, how many homes each: its extreme split patterns,
   the column-generation view of the fixed-charge transportation problem). For any multipliers

       L(y) = sum_i min_pattern [ (c - A'y) . x_i + f * (pieces_i - 1)+ ] + y . b

   is a valid lower bound (weak duality); a projected subgradient ascent raises it. The min-group
   penalty is left out of the complex's problem (a cost >= 0 dropped: still a bound).
3. HiGHS's dual bound on the fixed-charge MIP over the near-face (`fctp_mip_bound`), lean: no
   min-group columns, so its root is reached sooner. Run for 10 minutes on the bench
   (bench/face_mip_curve.py) the dual bound hardly moves after the root: +0.3% of the changeable cost.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from services.matching.app.optimiser.inputs import Weights
from services.matching.app.optimiser.solver import Arcs, lower_bound

TOL = 1e-7


@dataclass
class LadderFace:
    """The plans housing `housed` homes at the ladder minimum, arc by arc (complementary slackness)."""

    free: np.ndarray  # arcs that may carry any flow (zero reduced cost)
    full: np.ndarray  # arcs every such plan fills to their capacity (negative reduced cost)
    plot_full: np.ndarray  # plots every such plan fills
    complex_full: np.ndarray  # complexes every such plan houses in full
    ladder_min: float  # the least ladder priority (points)


def _ladder_lp(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, housed: int, interior: bool = False):
    """min ladder s.t. flow limits, sum x = housed (HiGHS LP, in ladder steps): (rc, complex duals, plot duals,
    housed dual, value in points), duals as HiGHS gives them (<= 0 on the <= rows); None if not solved.

    `interior`: the interior-point dual without crossover, near the centre of the optimal duals (strictly
    complementary: reduced costs non-zero wherever some optimal dual has them so), not a vertex.
    """
    import highspy

    A, m = len(arcs.demand), len(capacity)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    if interior:
        h.setOptionValue("solver", "ipm")
        h.setOptionValue("run_crossover", "off")
    steps = arcs.priority / _step_unit(arcs)  # small integers
    h.addVars(A, np.zeros(A), arcs.cap.astype(float))
    h.changeColsCost(A, np.arange(A, dtype=np.int32), steps)
    rows = np.concatenate([arcs.demand, n + arcs.plot, np.full(A, n + m)])
    cols = np.concatenate([np.arange(A)] * 3)
    order = np.lexsort((cols, rows))
    rows, cols = rows[order], cols[order]
    starts = np.searchsorted(rows, np.arange(n + m + 1)).astype(np.int32)
    inf = highspy.kHighsInf
    lo = np.concatenate([np.full(n + m, -inf), [float(housed)]])
    hi = np.concatenate([supply.astype(float), capacity.astype(float), [float(housed)]])
    h.addRows(n + m + 1, lo, hi, len(cols), starts, cols.astype(np.int32), np.ones(len(cols)))
    h.run()
    if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
        return None
    sol = h.getSolution()
    rc, dual = np.asarray(sol.col_dual), np.asarray(sol.row_dual)
    return rc, dual[:n], dual[n:n + m], float(dual[n + m]), float(np.dot(arcs.priority, np.asarray(sol.col_value)))


def _step_unit(arcs: Arcs) -> float:
    """Ladder points of the smallest rung step: the ladder LP's unit (its costs are then small integers)."""
    climbs = arcs.priority[arcs.priority > 0]
    return float(climbs.min()) if len(climbs) else 1.0


def ladder_face(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, housed: int) -> LadderFace | None:
    """One optimal dual of min ladder s.t. flow limits, sum x = housed (HiGHS LP); None if not solved."""
    lp = _ladder_lp(n, arcs, supply, capacity, housed)
    if lp is None:
        return None
    rc, u, v, _, value = lp
    return LadderFace(free=np.abs(rc) <= TOL, full=rc < -TOL, plot_full=v < -TOL, complex_full=u < -TOL, ladder_min=value)


@dataclass
class NearFace:
    """The plans housing `housed` homes with at most `ladder` points, arc by arc (reduced-cost fixing).

    With one dual (u <= 0 per complex, v <= 0 per plot, l for the homes housed) of the ladder LP and
    rc_a = steps_a - u_i - v_j - l, every plan x housing `housed` homes has, in ladder steps,

        ladder(x) - D = sum_{rc>0} rc_a x_a + sum_{rc<0} |rc_a| (cap_a - x_a)
                        + sum_i |u_i| (supply_i - X_i) + sum_j |v_j| (capacity_j - load_j)

    (D: the dual objective, the ladder minimum when the dual is optimal), each term >= 0. A plan within
    `budget` = ladder - D steps thus carries at most budget / rc_a homes on an arc with rc_a > 0, leaves
    at most budget / |rc_a| unused on one with rc_a < 0, and so on per complex and plot: integral
    plans, so each such limit is rounded down. At the ladder minimum (budget 0) this is the face.
    """

    keep: np.ndarray  # arcs any such plan may use (index into the arcs)
    lo: np.ndarray  # per kept arc: the least it carries in every such plan
    hi: np.ndarray  # per kept arc: the most
    complex_lo: np.ndarray  # per complex: the fewest homes housed
    plot_lo: np.ndarray  # per plot: the least load
    budget: float  # ladder steps above the dual's floor
    step: float  # ladder points per step
    ladder_min: float  # the least ladder priority (points)

    @property
    def on_face(self) -> bool:
        return self.budget < 1e-3  # less than a thousandth of a step: no home can climb


def near_face(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, housed: int, ladder: float,
              interior: bool = True) -> NearFace | None:
    """The near-face restriction for plans housing `housed` homes with at most `ladder` points (None: LP not solved).

    Every dual gives a valid restriction, so two (the simplex's vertex and, with `interior`, the interior
    point's) give their intersection: the vertex dual leaves zero reduced costs where the interior one
    often has none (a smaller face); the interior one's fractional ones limit arcs the vertex leaves free.
    """
    lp = _ladder_lp(n, arcs, supply, capacity, housed)
    if lp is None:
        return None
    step = _step_unit(arcs)
    nf = _restriction(n, arcs, supply, capacity, housed, ladder, step, *lp[1:4])
    centre = _ladder_lp(n, arcs, supply, capacity, housed, interior=True) if interior else None
    if centre is not None:
        other = _restriction(n, arcs, supply, capacity, housed, ladder, step, *centre[1:4])
        nf = {k: np.maximum(nf[k], other[k]) if k.endswith("lo") else np.minimum(nf[k], other[k]) for k in nf}
    lo, hi = nf["lo"], nf["hi"]
    # what the other arcs must carry leaves an arc less room in its complex and its plot
    lo_d = np.bincount(arcs.demand, weights=lo, minlength=n).astype(np.int64)
    lo_p = np.bincount(arcs.plot, weights=lo, minlength=len(capacity)).astype(np.int64)
    hi = np.minimum(hi, np.minimum(supply[arcs.demand] - (lo_d[arcs.demand] - lo), capacity[arcs.plot] - (lo_p[arcs.plot] - lo)))
    keep = np.nonzero(hi > 0)[0]
    return NearFace(keep=keep, lo=lo[keep], hi=hi[keep], complex_lo=nf["complex_lo"], plot_lo=nf["plot_lo"],
                    budget=float(nf["budget"]), step=step, ladder_min=lp[4])


def _restriction(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, housed: int, ladder: float, step: float,
                 u: np.ndarray, v: np.ndarray, lam: float) -> dict:
    """The limits one dual of the ladder LP puts on every plan within `ladder` (see `NearFace`)."""
    u, v = np.minimum(u, 0.0), np.minimum(v, 0.0)  # dual feasible as used below, whatever the solver's rounding
    rc = arcs.priority / step - u[arcs.demand] - v[arcs.plot] - lam
    dual_value = float(np.dot(u, supply) + np.dot(v, capacity) + lam * housed + np.dot(np.minimum(rc, 0.0), arcs.cap))
    budget = max(0.0, ladder / step - dual_value) + 1e-6  # a hair looser: rounding can only admit more plans
    # a coefficient within the LP's tolerance of zero limits nothing (looser, so still valid)
    rc, u, v = np.where(np.abs(rc) <= TOL, 0.0, rc), np.where(u >= -TOL, 0.0, u), np.where(v >= -TOL, 0.0, v)

    def slack(coef: np.ndarray, size: np.ndarray) -> np.ndarray:
        """How far below `size` a quantity whose unit costs |coef| of the budget may stay (size where coef is 0)."""
        with np.errstate(divide="ignore"):
            return np.where(coef != 0, np.minimum(size, np.floor(budget / np.abs(coef))), size).astype(np.int64)

    cap = arcs.cap.astype(np.int64)
    return {"hi": np.where(rc > 0, slack(rc, cap), cap), "lo": np.where(rc < 0, cap - slack(rc, cap), 0),
            "complex_lo": supply.astype(np.int64) - slack(u, supply.astype(np.int64)),
            "plot_lo": capacity.astype(np.int64) - slack(v, capacity.astype(np.int64)), "budget": budget}


def face_arcs(face: LadderFace, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray) -> tuple[np.ndarray, Arcs, np.ndarray]:
    """The face's arcs, each capped at what the face leaves it: (index into `arcs`, those arcs, which are full).

    A free arc can carry no more than its complex has left after the arcs every face plan fills,
    nor more than its plot has left after them; an arc left with nothing is dropped. A tighter
    capacity is a stronger LP relaxation (x <= cap * y) and a smaller search.
    """
    on = face.free | face.full
    full_d = np.bincount(arcs.demand[face.full], weights=arcs.cap[face.full], minlength=len(supply)).astype(np.int64)
    full_p = np.bincount(arcs.plot[face.full], weights=arcs.cap[face.full], minlength=len(capacity)).astype(np.int64)
    cap = np.where(face.full, arcs.cap, np.minimum(arcs.cap, np.minimum(supply[arcs.demand] - full_d[arcs.demand],
                                                                       capacity[arcs.plot] - full_p[arcs.plot])))
    keep = np.nonzero(on & (cap > 0))[0]
    sub = arcs.subset(keep)
    sub.cap = cap[keep].astype(np.int64)
    return keep, sub, face.full[keep]


class ComplexPatterns:
    """Each complex's free arcs, padded to one matrix, for the exact per-complex problem (vectorised over complexes)."""

    def __init__(self, arcs: Arcs, supply: np.ndarray, free: np.ndarray, full: np.ndarray, exact: np.ndarray) -> None:
        n = len(supply)
        self.full = np.nonzero(full)[0]
        self.full_cap, self.full_demand = arcs.cap[self.full].astype(np.int64), arcs.demand[self.full]
        self.full_pieces = np.bincount(arcs.demand[self.full], minlength=n)
        self.left = supply.astype(np.int64) - np.bincount(arcs.demand[self.full], weights=arcs.cap[self.full],
                                                          minlength=n).astype(np.int64)
        self.exact = exact  # the complex houses exactly all its homes
        idx = np.nonzero(free)[0]
        order = idx[np.argsort(arcs.demand[idx], kind="stable")]
        counts = np.bincount(arcs.demand[order], minlength=n)
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        pos = np.arange(len(order)) - np.repeat(starts, counts)
        self.K = int(counts.max(initial=0))
        self.arc = np.full((n, max(self.K, 1)), -1, dtype=np.int64)
        self.arc[arcs.demand[order], pos] = order
        self.valid = self.arc >= 0
        self.cap = np.where(self.valid, np.minimum(arcs.cap[np.maximum(self.arc, 0)], self.left[:, None]), 0).astype(np.int64)
        self.U = int(max(self.left.max(initial=0), 0)) + 1

    def solve(self, r: np.ndarray, f: float) -> tuple[np.ndarray, np.ndarray]:
        """Per complex the least sum_a r_a x_a + f (pieces - 1)+ over its patterns (exact), and x per arc.

        The full arcs are in every pattern. Of the free ones, ordered by r, every piece but the
        last is full (greedy fill), so a knapsack over the full pieces' home count u, with the
        last piece taking min(cap, left - u), is exact. Where the complex need not house all its
        homes only arcs with r < 0 can lower the value; where it must, every arc counts.
        """
        n, K, U = len(self.left), self.K, self.U
        left = self.left
        rr = np.where(self.valid, r[np.maximum(self.arc, 0)], np.inf)
        order = np.argsort(rr, axis=1, kind="stable")
        rs = np.take_along_axis(rr, order, axis=1)
        caps = np.take_along_axis(self.cap, order, axis=1)
        u = np.arange(U)[None, :]
        inside = u < left[:, None]  # u: homes in full pieces, fewer than the complex has left
        g = np.where((u == 0) & inside, 0.0, np.inf)  # least cost of full free pieces totalling u homes
        # a piece costs f unless it is the complex's first (full arcs come first)
        extra = np.where(self.full_pieces > 0, f, 0.0)
        best = np.where(self.exact & (left > 0), np.inf, 0.0)  # the empty free pattern
        best_k = np.full(n, -1)
        best_u = np.zeros(n, dtype=np.int64)
        took: list[np.ndarray] = []
        rows = np.arange(n)
        for k in range(K):
            rk, ck = rs[:, k], caps[:, k]
            active = np.isfinite(rk) & (ck > 0) & ((rk < 0) | self.exact)
            if not active.any():
                break
            rk0 = np.where(active, rk, 0.0)
            take_last = np.minimum(ck[:, None], left[:, None] - u)
            last = g + rk0[:, None] * take_last + extra[:, None]
            bad = ~inside | (self.exact[:, None] & (take_last < left[:, None] - u))
            last = np.where(bad, np.inf, last)
            uu = np.argmin(last, axis=1)
            val = last[rows, uu]
            better = active & (val < best - 1e-9)
            best = np.where(better, val, best)
            best_k = np.where(better, k, best_k)
            best_u = np.where(better, uu, best_u)
            src = u - ck[:, None]
            shifted = np.where(src >= 0, np.take_along_axis(g, np.maximum(src, 0), axis=1), np.inf)
            cand = shifted + (rk0 * ck + f)[:, None]
            take = active[:, None] & inside & (cand < g - 1e-9)
            g = np.where(take, cand, g)
            took.append(take)
        # the full arcs: in every pattern, each piece beyond the complex's first paying f
        x = np.zeros(len(r), dtype=np.int64)
        x[self.full] = self.full_cap
        best = best + np.bincount(self.full_demand, weights=r[self.full] * self.full_cap, minlength=n) \
            + f * np.maximum(self.full_pieces - 1, 0)
        for i in np.nonzero(best_k >= 0)[0]:
            k, uu = int(best_k[i]), int(best_u[i])
            x[self.arc[i, order[i, k]]] = min(int(caps[i, k]), int(left[i]) - uu)
            for j in range(k - 1, -1, -1):
                if uu > 0 and took[j][i, uu]:
                    x[self.arc[i, order[i, j]]] = int(caps[i, j])
                    uu -= int(caps[i, j])
        return best, x


def near_face_arcs(nf: NearFace, arcs: Arcs) -> Arcs:
    """The near-face's arcs, each capped at the most any plan in it can carry."""
    sub = arcs.subset(nf.keep)
    sub.cap = nf.hi.copy()
    return sub


def lagrangian_bound(
    n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, w: Weights, housed: int, ladder: float,
    upper: float | None = None, time_limit_s: float = 60.0, max_rounds: int = 1000,
) -> dict:
    """The best bound found (each round's is valid) on plans housing `housed` homes with at most `ladder` points.

    Over the near-face (`near_face`: the ladder face itself at the ladder minimum) with the ladder row
    kept: the LP relaxation there, then the Lagrangian from its duals, with the ladder row priced too
    (a multiplier <= 0 per ladder step). `upper`: the plan's cost (the Polyak step's target).
    """
    t0 = time.perf_counter()
    m = len(capacity)
    lp = lower_bound(n, arcs, supply, capacity, w, housed, ladder_max=ladder)
    if lp is None:
        return {"ladder_face": None, "bound": None, "lp_bound": None}
    nf = near_face(n, arcs, supply, capacity, housed, ladder)
    out: dict = {"ladder_face": None if nf is None else nf.on_face, "lp_bound": lp}
    if nf is None:
        return {**out, "bound": lp, "rounds": 0, "seconds": round(time.perf_counter() - t0, 3)}
    arcs, lo = near_face_arcs(nf, arcs), nf.lo
    # each plot's load lies in [plot_lo, capacity]: a multiplier > 0 prices the lower side, < 0 the upper
    plot_lo = np.minimum(nf.plot_lo, capacity).astype(float)
    exact = nf.complex_lo >= supply
    face_lp = lower_bound(n, arcs, supply, capacity, w, housed, ladder_max=ladder, with_duals=True, arc_lower=lo,
                          complex_min=nf.complex_lo, plot_min=nf.plot_lo)
    if face_lp is None:
        return {**out, "bound": lp, "rounds": 0, "seconds": round(time.perf_counter() - t0, 3)}
    lp_value, y_cap, y_housed, y_ladder = face_lp
    out.update({"face_lp_bound": lp_value, "arcs_near_face": len(nf.keep), "arcs_full": int(((lo == arcs.cap) & (lo > 0)).sum()),
                "ladder_budget_steps": round(nf.budget, 6)})
    # an arc every such plan fills is in every pattern; one that must carry some but not all is left free (a relaxation)
    full = (lo == arcs.cap) & (lo > 0)
    patterns = ComplexPatterns(arcs, supply, ~full, full, exact)
    f = w.split_fixed_eur
    cap_f = capacity.astype(float)
    y_cap = np.where(plot_lo > 0, y_cap, np.minimum(y_cap, 0.0))
    y_ladder = min(y_ladder, 0.0)
    level = arcs.priority / max(w.ladder_step_per_unit, 1.0)  # the ladder row's unit, as in `lower_bound`
    ladder_rhs = ladder / max(w.ladder_step_per_unit, 1.0) + 1e-6
    best = -np.inf
    theta, stale, rounds = 2.0, 0, 0
    target = upper if upper is not None else lp_value * 1.02
    while rounds < max_rounds and time.perf_counter() - t0 < time_limit_s:
        rounds += 1
        r = arcs.cost - y_cap[arcs.plot] - y_housed - y_ladder * level
        values, x = patterns.solve(r, f)
        value = float(values.sum() + np.dot(y_cap, np.where(y_cap > 0, plot_lo, cap_f)) + y_housed * housed
                      + y_ladder * ladder_rhs)
        if rounds == 1:
            out["first_round"] = value  # >= the face LP: each complex's problem solved exactly, not relaxed
        if value > best + 1e-6:
            best, stale = value, 0
        else:
            stale += 1
            if stale >= 10:
                theta, stale = theta / 2, 0
                if theta < 1e-3:
                    break
        load = np.bincount(arcs.plot, weights=x, minlength=m)
        # the subgradient of each side in force; at zero, whichever side the patterns break (none: no move)
        g_cap = np.where(y_cap < 0, cap_f - load, np.where(y_cap > 0, plot_lo - load,
                                                           np.minimum(cap_f - load, 0.0) + np.maximum(plot_lo - load, 0.0)))
        g_housed = float(housed - x.sum())
        g_ladder = float(ladder_rhs - np.dot(level, x))
        g_ladder = g_ladder if (y_ladder < 0 or g_ladder < 0) else 0.0
        norm = float(np.dot(g_cap, g_cap) + g_housed**2 + g_ladder**2)
        if norm < 1e-12:
            break  # the patterns meet every relaxed row: the bound is the optimum over the near-face
        step = theta * max(target - value, 1e-4 * abs(target)) / norm
        y_new = y_cap + step * g_cap
        # a multiplier crossing zero stops there (its other side's row takes over from the next step on)
        # (a plot every such plan fills: an equality, its multiplier free)
        y_cap = np.where(plot_lo >= cap_f, y_new,
                         np.where(plot_lo > 0, np.where(y_cap * y_new < 0, 0.0, y_new), np.minimum(y_new, 0.0)))
        y_housed = y_housed + step * g_housed
        y_ladder = min(y_ladder + step * g_ladder, 0.0)
    lagrangian = best if np.isfinite(best) else None  # no round within the time: the LP stands
    out.update({"bound": max(lagrangian or lp_value, lp_value, lp), "lagrangian": lagrangian, "rounds": rounds,
                "seconds": round(time.perf_counter() - t0, 3)})
    return out


def fctp_mip_bound(
    n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, w: Weights, housed: int, ladder: float,
    time_limit_s: float = 60.0, start: np.ndarray | None = None,
) -> dict:
    """HiGHS's dual bound on the fixed-charge MIP over the near-face: plans housing `housed` homes within `ladder` points.

    Lean on purpose: only x (homes per arc), y (arc used) and z (complex housed at all), split cost
    f * (sum y - z); the min-group penalty is left out (a cost >= 0 dropped: still a bound), so the
    model is a third smaller than the plan's MIP and its root and nodes are faster. The near-face's
    limits enter as bounds (arcs every such plan uses have y = 1), with the ladder row, and a cover
    row per complex that no single arc can house: at least as many arcs as its largest caps need.
    `start`: a plan in the class (all arcs), a warm start for the primal side. The dual bound holds
    whenever HiGHS reports one (time limit or not); None where it has none.
    """
    import highspy

    t0 = time.perf_counter()
    nf = near_face(n, arcs, supply, capacity, housed, ladder)
    if nf is None:
        return {"bound": None}
    sub, lo, hi = near_face_arcs(nf, arcs), nf.lo.astype(float), nf.hi.astype(float)
    A, m, f = len(hi), len(capacity), w.split_fixed_eur
    has_arcs = np.bincount(sub.demand, minlength=n) > 0  # z of a complex without arcs stays 0
    sure = (nf.complex_lo >= 1) & has_arcs
    ox, oy, oz = 0, A, 2 * A
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    h.setOptionValue("time_limit", float(max(time_limit_s, 0.05)))
    h.setOptionValue("mip_rel_gap", 1e-6)
    h.addVars(2 * A + n, np.concatenate([lo, (lo > 0).astype(float), sure.astype(float)]),
              np.concatenate([hi, np.ones(A), has_arcs.astype(float)]))
    h.changeColsCost(2 * A + n, np.arange(2 * A + n, dtype=np.int32), np.concatenate([sub.cost, np.full(A, f), np.full(n, -f)]))
    icols = np.arange(2 * A, dtype=np.int32)
    h.changeColsIntegrality(len(icols), icols, np.full(len(icols), highspy.HighsVarType.kInteger))
    inf = highspy.kHighsInf
    rows: list[tuple[np.ndarray, np.ndarray, float, float]] = []
    by_d = np.split(np.argsort(sub.demand, kind="stable"), np.cumsum(np.bincount(sub.demand, minlength=n))[:-1])
    by_p = np.split(np.argsort(sub.plot, kind="stable"), np.cumsum(np.bincount(sub.plot, minlength=m))[:-1])
    covers = 0
    for i, a in enumerate(by_d):
        if not len(a):
            continue
        rows.append((ox + a, np.ones(len(a)), float(nf.complex_lo[i]) if nf.complex_lo[i] > 0 else -inf, float(supply[i])))
        rows.append((np.concatenate([[oz + i], oy + a]), np.concatenate([[1.0], -np.ones(len(a))]), -inf, 0.0))  # z <= sum y
        need = int(nf.complex_lo[i])
        k = int(np.searchsorted(np.cumsum(np.sort(hi[a])[::-1]), need - 0.5) + 1) if need > 0 else 0
        if k > 1:  # no k-1 arcs can carry what the complex must house
            rows.append((oy + a, np.ones(len(a)), float(k), inf))
            covers += 1
    for j, a in enumerate(by_p):
        if len(a):
            rows.append((ox + a, np.ones(len(a)), float(nf.plot_lo[j]) if nf.plot_lo[j] > 0 else -inf, float(capacity[j])))
    ar = np.arange(A)
    lengths = [len(r[0]) for r in rows] + [2] * A + [A, A]
    cols = np.concatenate([r[0] for r in rows] + [np.stack([ox + ar, oy + ar], axis=1).ravel(), ox + ar, ox + ar])
    vals = np.concatenate([r[1] for r in rows] + [np.stack([np.ones(A), -hi], axis=1).ravel(), np.ones(A),
                                                  sub.priority / max(w.ladder_step_per_unit, 1.0)])
    lo_r = [r[2] for r in rows] + [-inf] * A + [float(housed), -inf]
    hi_r = [r[3] for r in rows] + [0.0] * A + [float(housed), ladder / max(w.ladder_step_per_unit, 1.0) + 1e-6]
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int32)
    h.addRows(len(lo_r), np.array(lo_r), np.array(hi_r), len(cols), starts, cols.astype(np.int32), vals)
    if start is not None and not np.delete(start, nf.keep).any():
        x = start[nf.keep].astype(float)
        y = (x > 0).astype(float)
        warm = highspy.HighsSolution()
        warm.col_value = list(np.concatenate([x, y, (np.bincount(sub.demand, weights=y, minlength=n) > 0).astype(float)]))
        warm.value_valid = True
        h.setSolution(warm)
    h.run()
    info = h.getInfo()
    bound, primal = float(info.mip_dual_bound), float(info.objective_function_value)
    return {"bound": bound if np.isfinite(bound) and abs(bound) < 1e300 else None, "plan_eur_without_min_group":
            primal if np.isfinite(primal) and abs(primal) < 1e300 else None, "status": h.modelStatusToString(h.getModelStatus()),
            "nodes": int(info.mip_node_count), "arcs": A, "covers": covers, "seconds": round(time.perf_counter() - t0, 3)}
