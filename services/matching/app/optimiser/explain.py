"""Why a proposal looks the way it does: per-term cost, binding constraints, alternatives (pure).

Everything here reads the solution's own (pruned) arc set and flow: no re-solving, so a handler
that proposes for hundreds of placements stays fast. The reasons a plot was not used come from the
rule registry (`rules.pair_breaches`): the hard rules are written once, in rules.py.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np

from services.matching.app.optimiser.costs import RUNG_INDEX, RUNGS, breakdown, pair_costs
from services.matching.app.optimiser.pairs import Columns
from services.matching.app.optimiser.rules import pair_breaches, violation_blocks
from services.matching.app.optimiser.solver import Allocation, Demand, Plot, Solution, Weights
from shared.events.models import CostBreakdown
from shared.reference import haversine_km


def demand_cost(solution: Solution, i: int, groups: np.ndarray, w: Weights) -> CostBreakdown:
    """The per-term cost of demand i's part of the plan."""
    idx = np.nonzero((solution.arcs.demand == i) & (solution.flow > 0))[0]
    return breakdown(solution.arcs.subset(idx), solution.flow[idx], w, groups)


class BindingConstraints:
    """Counts, per demand, of the plots each hard constraint rules out (vectorised over all plots)."""

    def __init__(self, demands: Sequence[Demand], plots: Sequence[Plot], w: Weights) -> None:
        self.demands, self.plots, self.w = demands, plots, w
        self.counts: list[dict[str, int]] = [{} for _ in demands]
        self.keys = {p.key for p in plots}
        if not demands or not plots:
            return
        cols = Columns(demands, plots, w)
        for lo in range(0, len(demands), 256):
            rows = np.arange(lo, min(len(demands), lo + 256))
            for reason, block in violation_blocks(cols, rows, w).items():
                for r, c in zip(rows, block.sum(axis=1)):
                    if c:
                        self.counts[r][reason] = int(c)

    def of(self, i: int, allocations: Sequence[Allocation], demand: Demand | None = None) -> list[str]:
        demand = demand or self.demands[i]
        counts = dict(self.counts[i])
        extra = len(demand.excluded_plots & self.keys) - counts.get("declined_before", 0)
        if extra > 0:
            counts["declined_before"] = counts.get("declined_before", 0) + extra
        out = [f"{reason}: {count} plot(s) ruled out" for reason, count in sorted(counts.items())]
        for x in allocations:
            if x.units == self.plots[x.plot].free_units and x.units < demand.units:
                out.append(f"capacity: plot {self.plots[x.plot].key} filled to its {x.units} free place(s)")
        housed = sum(x.units for x in allocations)
        if housed < demand.units:
            out.append(f"shortfall: {demand.units - housed} home(s) have no feasible plot with free capacity")
        if any(x.rung.value == "garantiekavel" for x in allocations) and not self.w.allow_garantiekavel_override:
            out.append("garantiekavel backstop: no plot on a lower rung could take these homes")
        if demand.min_group_size > 1 and len(allocations) > 1:
            out.append(f"min_group_size: allocations of at least {demand.min_group_size} homes but one remainder are preferred")
        return out


def plot_coords(plots: Sequence[Plot]) -> tuple[np.ndarray, np.ndarray]:
    return np.array([p.lat for p in plots], dtype=float), np.array([p.lon for p in plots], dtype=float)


@dataclasses.dataclass
class Unused:
    """The nearest plots demand i's plan does not use, before their reasons are worked out (`passed_over_many`)."""

    demand: Demand
    plots: list[Plot]  # as they stand for this demand (free units counted down by earlier offers)
    residual: list[int]  # per plot: what the whole plan leaves free, with this demand's own homes freed
    top_rung: int | None
    worst_eur: float | None


def nearest_unused(solution: Solution, i: int, demand: Demand, plots: Sequence[Plot], capacity: np.ndarray,
                   n: int = 5, coords: tuple[np.ndarray, np.ndarray] | None = None) -> Unused | None:
    """The `n` plots nearest to demand i that its plan does not use (None: there are none)."""
    if not plots:
        return None
    arcs, flow = solution.arcs, solution.flow
    own = np.nonzero(arcs.demand == i)[0] if arcs is not None else np.zeros(0, dtype=np.int64)
    used = own[flow[own] > 0] if len(own) else own
    chosen = {int(arcs.plot[a]) for a in used}
    # the nearest first (the same distance as the pairs'), then costs and rules for those n alone
    lat, lon = coords or plot_coords(plots)
    dist = np.atleast_1d(haversine_km(demand.lat, demand.lon, lat, lon))
    order: list[int] = []
    for j in np.argsort(dist, kind="stable").tolist():
        if len(order) == n:
            break
        if j not in chosen:
            order.append(j)
    if not order:
        return None
    residual = capacity.astype(np.int64).copy()
    if arcs is not None and len(arcs.demand):
        residual -= np.bincount(arcs.plot, weights=flow, minlength=len(capacity)).astype(np.int64)
        residual[arcs.plot[own]] += flow[own]  # its own homes would free up what it uses
    return Unused(demand, [plots[j] for j in order], [int(residual[j]) for j in order],
                  max((int(arcs.rung[a]) for a in used), default=None),
                  max((float(arcs.cost[a]) for a in used), default=None))


def passed_over_many(unused: Sequence[Unused | None], w: Weights) -> list[list[dict]]:
    """Why each demand's nearest unused plots were not used, for many demands at once: the costs and
    rules of all their (demand, plot) pairs in one pass (a burst explains thousands of offers; one
    pass per offer cost ~1.6 ms each in column building alone). Reasons as `passed_over` says."""
    given = [u for u in unused if u is not None]
    if not given:
        return [[] for _ in unused]
    cols = Columns([u.demand for u in given], [p for u in given for p in u.plots], w)
    di = np.repeat(np.arange(len(given), dtype=np.int64), [len(u.plots) for u in given])
    pj = np.arange(len(di), dtype=np.int64)
    pc = pair_costs(*cols.pairs(di, pj), w)
    broken = pair_breaches(cols, di, pj, w)
    names = list(broken)
    hit = np.stack([broken[name] for name in names], axis=1) if names else np.zeros((len(di), 0), dtype=bool)
    rungs, eurs, dists = pc.rung.tolist(), pc.eur.tolist(), pc.dist.tolist()
    out: list[list[dict]] = []
    k = 0
    it = iter(given)
    for u in unused:
        if u is None:
            out.append([])
            continue
        u = next(it)
        mine: list[dict] = []
        for p, residual in zip(u.plots, u.residual):
            rules = [names[r] for r in np.nonzero(hit[k])[0]]
            mine.append(_why_passed_over(u, p, residual, rules, int(rungs[k]), float(eurs[k]), float(dists[k])))
            k += 1
        out.append(mine)
    return out


def _why_passed_over(u: Unused, p: Plot, residual: int, rules: list[str], rung: int, eur_home: float, dist: float) -> dict:
    if rules:
        reasons, detail = rules, "breaks " + ", ".join(rules)
    elif residual <= 0:
        reasons, detail = ["full"], "its free places go to other complexes in this plan"
    elif u.top_rung is not None and rung > u.top_rung:
        reasons, detail = ["ladder"], f"rung {RUNGS[rung].value}: a lower rung ({RUNGS[u.top_rung].value}) was available"
    elif u.worst_eur is None or eur_home < u.worst_eur:
        reasons = ["split"]
        detail = (f"only {residual} free place(s) for {u.demand.units} homes: one more plot for the complex"
                  if residual < u.demand.units else "using it would spread the complex over one more plot")
    else:
        reasons, detail = ["cost"], f"EUR {eur_home - u.worst_eur:,.0f} more per home than the plots used"
    return {"site_id": p.key, "gemeente_code": p.gemeente_code, "distance_km": round(dist, 2), "rung": RUNGS[rung].value,
            "free_units": int(max(residual, 0)), "reasons": reasons, "detail": detail}


def passed_over(solution: Solution, i: int, demand: Demand, plots: Sequence[Plot], capacity: np.ndarray, w: Weights,
                n: int = 5, coords: tuple[np.ndarray, np.ndarray] | None = None) -> list[dict]:
    """The `n` plots nearest to demand i that its plan does not use, each with why not (a person can check it).

    Reasons, in this order: every hard rule of the registry the pair breaks (its name in rules.py);
    else "full" (the plan gives the plot's free places to other complexes); else "ladder" (the plot
    is on a higher rung than every plot the plan uses: a lower rung was available); else "split"
    (cheaper per home, but taking it would spread the complex over one more plot or leave a piece
    below its minimum group); else "cost" (dearer per home than the plots the plan uses).
    `coords`: the plots' (lat, lon) arrays, when the caller explains many demands against the same plots.
    """
    return passed_over_many([nearest_unused(solution, i, demand, plots, capacity, n, coords)], w)[0]


def alternatives(solution: Solution, i: int, demand: Demand, plots: Sequence[Plot], capacity: np.ndarray, w: Weights,
                 n: int = 3) -> list[dict]:
    """The next best DISTINCT plans for demand i, from the arcs the optimiser already built.

    Alternative k leads with the k-th best feasible plot not in the chosen plan (ladder priority
    first, then EUR per home with the split cost spread over what the plot can take), filling what
    it cannot take from the next-best plots; capacity is what the whole plan leaves free. A plan
    equal to an earlier one (the same plots with the same homes each) is skipped. Each says why it
    was not chosen ("ladder", "min_group", "split", "cost" against the plan), the way the passed-over plots do.
    """
    arcs, flow = solution.arcs, solution.flow
    own = np.nonzero(arcs.demand == i)[0]
    chosen = {int(arcs.plot[a]) for a in own if flow[a] > 0}
    residual = capacity - np.bincount(arcs.plot, weights=flow, minlength=len(capacity)).astype(np.int64)
    residual[[int(arcs.plot[a]) for a in own]] += flow[own]  # its own homes free up when it goes elsewhere
    cand = [int(a) for a in own if int(arcs.plot[a]) not in chosen and residual[arcs.plot[a]] > 0]
    if not cand:
        return []
    units, g = demand.units, max(1, min(demand.min_group_size, demand.units))
    take = lambda a: int(min(units, residual[arcs.plot[a]], arcs.cap[a]))  # noqa: E731
    cand.sort(key=lambda a: (arcs.priority[a], arcs.cost[a] + (w.split_fixed_eur if take(a) < units else 0.0) / take(a)))
    filler = sorted(cand, key=lambda a: (arcs.priority[a], arcs.cost[a]))
    used = own[flow[own] > 0]
    groups = np.full(int(arcs.demand.max()) + 1 if len(arcs.demand) else 1, g)
    plan_cost = breakdown(arcs.subset(used), flow[used], w, groups)
    plan_rung = max((int(arcs.rung[a]) for a in used), default=-1)
    out: list[dict] = []
    seen: set[frozenset] = set()
    for lead in cand:
        if len(out) == n:
            break
        pieces = [(lead, take(lead))]
        left = units - pieces[0][1]
        remainder_used = pieces[0][1] < g
        for a in filler:
            if left == 0:
                break
            if a == lead:
                continue
            t = min(left, take(a))
            if t < g and t < left and remainder_used:
                continue  # a second small piece: skip, as the objective would
            remainder_used |= t < g
            pieces.append((a, t))
            left -= t
        signature = frozenset((int(arcs.plot[a]), t) for a, t in pieces)
        if signature in seen:
            continue  # the same allocation in another order: not an alternative
        seen.add(signature)
        idx = np.array([a for a, _ in pieces], dtype=np.int64)
        units_arr = np.array([t for _, t in pieces], dtype=np.int64)
        cost = breakdown(arcs.subset(idx), units_arr, w, groups)
        rung = max(int(arcs.rung[a]) for a, _ in pieces)
        out.append({
            "allocations": [
                {"site_id": plots[int(arcs.plot[a])].key, "gemeente_code": plots[int(arcs.plot[a])].gemeente_code, "units": t,
                 "rung": RUNGS[int(arcs.rung[a])].value, "distance_km": round(float(arcs.dist[a]), 2)}
                for a, t in pieces
            ],
            "housed_units": int(units_arr.sum()),
            "cost": cost.model_dump(by_alias=False, exclude={"ladder"}),
            "cost_total": round(cost.total, 2),
            "reasons": _why_not(cost, plan_cost, int(units_arr.sum()), int(flow[used].sum()), rung, plan_rung, w),
        })
    return out


def _why_not(alt: CostBreakdown, plan: CostBreakdown, housed: int, plan_housed: int, rung: int, plan_rung: int,
             w: Weights) -> list[str]:
    """Why an alternative was not chosen, in the objective's order (what it loses first)."""
    out: list[str] = []
    if housed < plan_housed:
        out.append(f"shortfall: houses {plan_housed - housed} home(s) fewer")
    if w.min_group_before_ladder and alt.min_group_violations > plan.min_group_violations:
        out.append(f"min_group: {alt.min_group_violations} piece(s) below the minimum group")
    if alt.ladder > plan.ladder:
        out.append(f"ladder: climbs to {RUNGS[rung].value}" + (f" (the plan stays at {RUNGS[plan_rung].value})"
                                                             if 0 <= plan_rung < rung else " for more homes"))
    if alt.splits > plan.splits:
        out.append(f"split: over {alt.splits + 1} plots")
    if alt.total > plan.total:
        out.append(f"cost: EUR {alt.total - plan.total:,.0f} more")
    return out or ["equal: as good as the plan by every priority"]
