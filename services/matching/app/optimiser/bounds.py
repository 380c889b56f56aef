"""Lower bounds on the EUR cost of a plan: how far from the best possible a plan can be (pure).

The bound holds for every plan over the same arcs that houses `housed` homes at the ladder
minimum (the plan's priorities; the LP fallback: with at most `ladder_max` ladder points).

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


def ladder_face(n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, housed: int) -> LadderFace | None:
    """One optimal dual of min ladder s.t. flow limits, sum x = housed (HiGHS LP); None if not solved."""
    import highspy

    A, m = len(arcs.demand), len(capacity)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    steps = arcs.priority / max(float(arcs.priority[arcs.priority > 0].min(initial=1.0)), 1.0)  # small integers
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
    return LadderFace(free=np.abs(rc) <= TOL, full=rc < -TOL, plot_full=dual[n:n + m] < -TOL,
                      complex_full=dual[:n] < -TOL, ladder_min=float(np.dot(arcs.priority, np.asarray(sol.col_value))))


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


def lagrangian_bound(
    n: int, arcs: Arcs, supply: np.ndarray, capacity: np.ndarray, w: Weights, housed: int, ladder: float,
    upper: float | None = None, time_limit_s: float = 60.0, max_rounds: int = 1000,
) -> dict:
    """The best bound found (each round's is valid) on plans housing `housed` homes with the plan's `ladder` points.

    At the ladder minimum: over the ladder face, from the LP relaxation's duals there. Above it (a
    plan that climbed to keep groups together): the LP relaxation with the ladder row only.
    `upper`: the plan's cost (the Polyak step's target).
    """
    t0 = time.perf_counter()
    m = len(capacity)
    face = ladder_face(n, arcs, supply, capacity, housed)
    on_face = face is not None and ladder <= face.ladder_min + 1e-6 * max(1.0, abs(face.ladder_min))
    out: dict = {"ladder_face": on_face}
    lp = lower_bound(n, arcs, supply, capacity, w, housed, ladder_max=ladder)
    if lp is None:
        return {**out, "bound": None, "lp_bound": None}
    out["lp_bound"] = lp
    if not on_face:
        return {**out, "bound": lp, "rounds": 0, "seconds": round(time.perf_counter() - t0, 3)}
    # the LP relaxation over the face (the same value, a sharper description) gives the starting multipliers
    _, arcs, full = face_arcs(face, arcs, supply, capacity)
    face_lp = lower_bound(n, arcs, supply, capacity, w, housed, with_duals=True, arc_lower=np.where(full, arcs.cap, 0),
                          plot_full=face.plot_full, complex_full=face.complex_full)
    if face_lp is None:
        return {**out, "bound": lp, "rounds": 0, "seconds": round(time.perf_counter() - t0, 3)}
    lp_value, y_cap, y_housed, _ = face_lp
    out.update({"face_lp_bound": lp_value, "arcs_free": int(face.free.sum()), "arcs_full": int(face.full.sum())})
    patterns = ComplexPatterns(arcs, supply, ~full, full, face.complex_full)
    f = w.split_fixed_eur
    cap_f = capacity.astype(float)
    best, best_y = -np.inf, None
    theta, stale, rounds = 2.0, 0, 0
    target = upper if upper is not None else lp_value * 1.02
    while rounds < max_rounds and time.perf_counter() - t0 < time_limit_s:
        rounds += 1
        r = arcs.cost - y_cap[arcs.plot] - y_housed
        values, x = patterns.solve(r, f)
        value = float(values.sum() + np.dot(y_cap, cap_f) + y_housed * housed)
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
        g_cap = cap_f - np.bincount(arcs.plot, weights=x, minlength=m)
        g_housed = float(housed - x.sum())
        # a plot every face plan fills is an equality (free multiplier); the others stay <= (multiplier <= 0)
        g_cap = np.where(face.plot_full | (y_cap < 0) | (g_cap < 0), g_cap, 0.0)
        norm = float(np.dot(g_cap, g_cap) + g_housed**2)
        if norm < 1e-12:
            break  # the patterns meet every relaxed row: the bound is the optimum over the face
        step = theta * max(target - value, 1e-4 * abs(target)) / norm
        y_cap = y_cap + step * g_cap
        y_cap = np.where(face.plot_full, y_cap, np.minimum(y_cap, 0.0))
        y_housed = y_housed + step * g_housed
    lagrangian = best if np.isfinite(best) else None  # no round within the time: the LP stands
    out.update({"bound": max(lagrangian or lp_value, lp_value, lp), "lagrangian": lagrangian, "rounds": rounds,
                "seconds": round(time.perf_counter() - t0, 3)})
    return out
