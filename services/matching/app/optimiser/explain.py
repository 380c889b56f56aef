"""Why a proposal looks the way it does: per-term cost, binding constraints, alternatives (pure)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Sequence

import numpy as np

from services.matching.app.optimiser.solver import (
    Allocation, CostTerms, Demand, Plot, Weights, _arcs_for, _Arrays, cost_terms, pair_violations, solve,
)


def demand_cost(demand: Demand, plots: Sequence[Plot], allocations: Sequence[Allocation], w: Weights) -> CostTerms:
    a = _Arrays([demand], plots, w)
    arcs = _arcs_for(a, w, np.zeros(len(allocations), dtype=np.int64), np.array([x.plot for x in allocations], dtype=np.int64), 0)
    return cost_terms(arcs, np.array([x.units for x in allocations], dtype=np.int64), w)


def binding_constraints(demand: Demand, plots: Sequence[Plot], allocations: Sequence[Allocation], w: Weights) -> list[str]:
    """The hard constraints that shaped the answer: plots they ruled out, plots filled to capacity."""
    out: list[str] = []
    reasons: Counter[str] = Counter()
    for p in plots:
        for v in pair_violations(demand, p, w):
            reasons[v] += 1
    out += [f"{reason}: {count} plot(s) ruled out" for reason, count in sorted(reasons.items())]
    for x in allocations:
        if x.units == plots[x.plot].free_units and x.units < demand.units:
            out.append(f"capacity: plot {plots[x.plot].key} filled to its {x.units} free place(s)")
    housed = sum(x.units for x in allocations)
    if housed < demand.units:
        out.append(f"shortfall: {demand.units - housed} home(s) have no feasible plot with free capacity")
    if any(x.rung.value == "garantiekavel" for x in allocations) and not w.allow_garantiekavel_override:
        out.append("garantiekavel backstop: no plot on a lower rung could take these homes")
    if demand.min_group_size > 1 and len(allocations) > 1:
        out.append(f"min_group_size: every allocation holds at least {demand.min_group_size} homes but one remainder")
    return out


def alternatives(demand: Demand, plots: Sequence[Plot], chosen: Sequence[Allocation], w: Weights, n: int = 3) -> list[dict]:
    """The next best plans: re-solve without the plots used so far, up to n times."""
    out: list[dict] = []
    excluded = set(demand.excluded_plots) | {plots[x.plot].key for x in chosen}
    for _ in range(n):
        d = dataclasses.replace(demand, excluded_plots=frozenset(excluded))
        sol = solve([d], plots, w, k=None, method="exact", time_limit_s=2.0)
        if not sol.allocations:
            break
        out.append({
            "allocations": [
                {"site_id": plots[x.plot].key, "gemeente_code": plots[x.plot].gemeente_code, "units": x.units,
                 "rung": x.rung.value, "distance_km": round(x.distance_km, 2)}
                for x in sol.allocations
            ],
            "housed_units": sol.housed,
            "cost_total": round(sol.cost.total, 2),
        })
        excluded |= {plots[x.plot].key for x in sol.allocations}
    return out
