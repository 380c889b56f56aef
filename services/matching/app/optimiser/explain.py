"""Why a proposal looks the way it does: per-term cost, binding constraints, alternatives (pure).

Everything here reads the solution's own (pruned) arc set and flow: no re-solving, so a handler
that proposes for hundreds of placements stays fast.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from services.matching.app.optimiser.costs import RUNGS, breakdown
from services.matching.app.optimiser.pairs import Columns
from services.matching.app.optimiser.rules import violation_blocks
from services.matching.app.optimiser.solver import Allocation, Demand, Plot, Solution, Weights
from shared.events.models import CostBreakdown


def demand_cost(solution: Solution, i: int, groups: np.ndarray, w: Weights) -> CostBreakdown:
    """The per-term cost of demand i's part of the plan."""
    idx = np.nonzero((solution.arcs.demand == i) & (solution.flow > 0))[0]
    return breakdown(solution.arcs.subset(idx), solution.flow[idx], w, groups)


class BindingConstraints:
    """Counts, per demand, of the plots each hard constraint rules out (vectorised over all plots)."""

    def __init__(self, demands: Sequence[Demand], plots: Sequence[Plot], w: Weights) -> None:
        self.demands, self.plots, self.w = demands, plots, w
        self.counts: list[dict[str, int]] = [{} for _ in demands]
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
        extra = len(demand.excluded_plots & {p.key for p in self.plots}) - counts.get("declined_before", 0)
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


def alternatives(solution: Solution, i: int, demand: Demand, plots: Sequence[Plot], capacity: np.ndarray, w: Weights,
                 n: int = 3) -> list[dict]:
    """The next best plans for demand i, from the arcs the optimiser already built.

    Alternative k leads with the k-th best feasible plot not in the chosen plan (ladder priority
    first, then EUR per home with the split cost spread over what the plot can take), filling what
    it cannot take from the next-best plots; capacity is what the whole plan leaves free.
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
    out: list[dict] = []
    for lead in cand[:n]:
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
        idx = np.array([a for a, _ in pieces], dtype=np.int64)
        units_arr = np.array([t for _, t in pieces], dtype=np.int64)
        cost = breakdown(arcs.subset(idx), units_arr, w, np.full(len(arcs.cap) and int(arcs.demand.max()) + 1, g))
        out.append({
            "allocations": [
                {"site_id": plots[int(arcs.plot[a])].key, "gemeente_code": plots[int(arcs.plot[a])].gemeente_code, "units": t,
                 "rung": RUNGS[int(arcs.rung[a])].value, "distance_km": round(float(arcs.dist[a]), 2)}
                for a, t in pieces
            ],
            "housed_units": int(units_arr.sum()),
            "cost": cost.model_dump(by_alias=False, exclude={"ladder"}),
            "cost_total": round(cost.total, 2),
        })
    return out
