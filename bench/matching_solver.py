"""Benchmark of the matching optimiser on seeded national instances (real municipality coordinates).

Scales: national (1,000 complexes / 40,000 homes / 500 plots) and large (5,000 / 100,000 / 5,000).
Per scale, in the same run: the optimiser (services/matching/app/optimiser/solver.py), the plain
min-cost max-flow (exact for distance, blind to splits: the baseline to beat), a greedy
nearest-feasible-plot baseline, the maximum number of homes that can be housed at all (max flow over
ALL feasible pairs, unpruned) and an LP lower bound on cost. Costs are counted net of the
unavoidable shortfall: every compared plan houses the max-flow maximum, so no shortfall penalty enters.

Run: .venv/bin/python bench/matching_solver.py [--scales national,large] [--seed 7]
The last printed line is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import resource
import sys
import time
from pathlib import Path

import numpy as np
from ortools.graph.python import max_flow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from services.matching.app.optimiser import solver as S  # noqa: E402
from shared.domain import BblLevel, Doelgroep, PermitInstrument, SiteKind  # noqa: E402
from shared.reference import municipalities  # noqa: E402

SCALES = {
    "national": dict(complexes=1_000, homes=40_000, plots=500, time_limit_s=3.5),
    "large": dict(complexes=5_000, homes=100_000, plots=5_000, time_limit_s=35.0),
}
GARANTIE_GEMEENTEN = ["GM0200", "GM0222", "GM0303", "GM0153", "GM0664"]
TODAY = dt.date(2026, 11, 23)


def generate(seed: int, complexes: int, homes: int, plots: int) -> tuple[list[S.Demand], list[S.Plot]]:
    """A national instance: complexes on expiring placements and plots, both at real gemeenten."""
    rng = np.random.default_rng(seed)
    gms = list(municipalities().values())
    groups = list(Doelgroep)
    # unit counts summing exactly to `homes`
    raw = rng.gamma(2.0, 1.0, complexes)
    units = np.maximum(1, np.floor(raw / raw.sum() * homes)).astype(int)
    units[: homes - units.sum()] += 1 if homes > units.sum() else 0
    while units.sum() > homes:
        units[np.argmax(units)] -= 1
    units = np.minimum(units, 500)
    demands = []
    for i in range(complexes):
        g = gms[rng.integers(len(gms))]
        bbl = BblLevel.tijdelijk if rng.random() < 0.2 else BblLevel.nieuwbouw
        dg = frozenset(groups[x] for x in rng.choice(len(groups), size=rng.integers(1, 3), replace=False))
        demands.append(
            S.Demand(
                key=f"d{i}", units=int(units[i]), lat=g.lat + rng.normal(0, 0.02), lon=g.lon + rng.normal(0, 0.02),
                gemeente_code=g.code, province_code=g.province_code,
                end_date=TODAY + dt.timedelta(days=int(rng.integers(30, 730))),
                bbl_level=bbl, composition_changed=bool(bbl is BblLevel.nieuwbouw and rng.random() < 0.1),
                layers=int(rng.choice([1, 1, 2, 2, 3])), doelgroepen=dg, social_rent=bool(rng.random() < 0.6),
                min_group_size=int(rng.choice([1, 1, 1, 5, 10, 15])),
            )
        )
    capacity_total = int(homes * 0.92)
    n_garantie = max(1, plots // 25)
    rawc = rng.gamma(2.5, 1.0, plots)
    caps = np.maximum(2, np.floor(rawc / rawc.sum() * capacity_total)).astype(int)
    instruments = [PermitInstrument.ow_bopa, PermitInstrument.ow_plan_tijdelijk, PermitInstrument.wabo_bor4_11,
                   PermitInstrument.wro_voorlopig, PermitInstrument.permanent, PermitInstrument.chw_experiment]
    out = []
    for j in range(plots):
        garantie = j < n_garantie
        g = municipalities()[GARANTIE_GEMEENTEN[j % 5]] if garantie else gms[rng.integers(len(gms))]
        instrument = PermitInstrument.ow_bopa if garantie else instruments[rng.choice(6, p=[0.35, 0.2, 0.2, 0.05, 0.1, 0.1])]
        start = TODAY + dt.timedelta(days=int(rng.integers(-180, 800)))
        restricted = (not garantie) and rng.random() < 0.2
        out.append(
            S.Plot(
                key=f"p{j}", free_units=50 if garantie else int(caps[j]),
                lat=g.lat + rng.normal(0, 0.02), lon=g.lon + rng.normal(0, 0.02),
                gemeente_code=g.code, province_code=g.province_code, available_from=start,
                available_until=None if rng.random() < 0.5 else start + dt.timedelta(days=int(rng.integers(3, 16) * 365)),
                kind=SiteKind.garantiekavel if garantie else SiteKind.municipal, expected_instrument=instrument,
                max_layers=int(rng.choice([1, 2, 3, 3, 4, 4])), allows_tijdelijk_bbl=instrument is not PermitInstrument.permanent,
                allows_permanent=instrument is PermitInstrument.permanent or rng.random() < 0.3,
                doelgroep_restrictions=frozenset(groups[x] for x in rng.choice(len(groups), size=rng.integers(3, 7), replace=False)) if restricted else frozenset(),
                bouwrijp=bool(garantie or rng.random() < 0.7), utilities_complete=bool(garantie or rng.random() < 0.75),
                exclusions=frozenset({"water_risk"}) if rng.random() < 0.03 else frozenset(),
            )
        )
    return demands, out


def max_flow_all_pairs(demands, plots, w) -> tuple[int, int]:
    """The most homes any plan can house: max flow over every feasible pair (no pruning)."""
    a = S._Arrays(demands, plots, w)
    n, m = len(demands), len(plots)
    smf = max_flow.SimpleMaxFlow()
    src, snk = n + m, n + m + 1
    pairs = 0
    for lo in range(0, n, 256):
        rows = np.arange(lo, min(n, lo + 256))
        r, c = np.nonzero(S._feasible_block(a, rows, w))
        pairs += len(r)
        smf.add_arcs_with_capacity(rows[r], n + c, np.minimum(a.d_units[rows[r]], a.p_free[c]))
    smf.add_arcs_with_capacity(np.full(n, src), np.arange(n), a.d_units)
    smf.add_arcs_with_capacity(n + np.arange(m), np.full(m, snk), a.p_free)
    assert smf.solve(src, snk) == smf.OPTIMAL
    return int(smf.optimal_flow()), pairs


def greedy(demands, plots, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nearest feasible plot first, demands in order of end date (what a desk would do)."""
    a = S._Arrays(demands, plots, w)
    free = a.p_free.copy()
    order = sorted(range(len(demands)), key=lambda i: demands[i].end_date)
    di, pj, fl = [], [], []
    for lo in range(0, len(order), 256):
        rows = np.array(order[lo : lo + 256])
        ok = S._feasible_block(a, rows, w)
        dist = S.haversine_km(a.d_lat[rows][:, None], a.d_lon[rows][:, None], a.p_lat[None, :], a.p_lon[None, :])
        dist = np.where(ok, dist, np.inf)
        for r, i in enumerate(rows):
            left = int(a.d_units[i])
            g = min(demands[i].min_group_size, left)
            small_used = False
            for j in np.argsort(dist[r]):
                if not np.isfinite(dist[r, j]) or left == 0:
                    break
                take = int(min(left, free[j]))
                if take <= 0 or (take < g and take < left and small_used):
                    continue
                small_used |= take < g
                di.append(i), pj.append(j), fl.append(take)
                free[j] -= take
                left -= take
    return np.array(di, dtype=np.int64), np.array(pj, dtype=np.int64), np.array(fl, dtype=np.int64)


def arcs_for(demands, plots, w, di, pj) -> S.Arcs:
    a = S._Arrays(demands, plots, w)
    return S._arcs_for(a, w, di, pj, 0)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scale(name: str, seed: int, spec: dict) -> dict:
    w = S.Weights()
    t = time.perf_counter()
    demands, plots = generate(seed, spec["complexes"], spec["homes"], spec["plots"])
    print(f"[{name}] generated {len(demands)} complexes / {sum(d.units for d in demands)} homes / {len(plots)} plots "
          f"({sum(p.free_units for p in plots)} plot places) in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    bound, all_pairs = max_flow_all_pairs(demands, plots, w)
    print(f"[{name}] max-flow bound over all {all_pairs} feasible pairs: {bound} homes ({time.perf_counter() - t:.1f}s)")

    # the optimiser, timed end to end (arc building included)
    t = time.perf_counter()
    ours = S.solve(demands, plots, w, k=20, method="slope_scaling", time_limit_s=spec["time_limit_s"])
    wall = time.perf_counter() - t
    violations = S.verify(demands, plots, ours.allocations, w)
    arcs = S.build_arcs(demands, plots, w, k=20)

    t = time.perf_counter()
    plain = S.solve(demands, plots, w, method="mcf", arcs=arcs)
    plain_wall = time.perf_counter() - t
    plain_flow = np.zeros(len(arcs.demand), dtype=np.int64)
    idx = {(int(i), int(j)): a for a, (i, j) in enumerate(zip(arcs.demand, arcs.plot))}
    for al in plain.allocations:
        plain_flow[idx[(al.demand, al.plot)]] = al.units

    t = time.perf_counter()
    gd, gp, gf = greedy(demands, plots, w)
    greedy_wall = time.perf_counter() - t
    garcs = arcs_for(demands, plots, w, gd, gp)
    g_cost = S.cost_terms(garcs, gf, w)

    t = time.perf_counter()
    supply = np.array([d.units for d in demands], dtype=np.int64)
    capacity = np.array([p.free_units for p in plots], dtype=np.int64)
    lb_full = S.lower_bound(len(demands), arcs, supply, capacity, w, plain.housed)
    # the backstop penalty is a priority, not a cost: every max-flow plan puts at least the plain
    # min-cost flow's garantiekavel homes there (it minimises them first), so this stays a bound
    g_min = sum(al.units for al in plain.allocations if al.rung.value == "garantiekavel")
    lb = lb_full - g_min * w.garantiekavel_penalty_eur_per_unit
    lb_wall = time.perf_counter() - t

    def line(label: str, cost: S.CostTerms, housed: int, secs: float) -> None:
        print(f"[{name}] {label:<22} wall {secs:7.2f}s  housed {housed:>7}  unassigned {sum(supply) - housed:>6}  "
              f"cost EUR {cost.total:>15,.0f}  unit-km {cost.transport_unit_km:>12,.0f}  splits {cost.splits:>5}")

    line("optimiser (DSSP)", ours.cost, ours.housed, wall)
    line("plain min-cost flow", plain.cost, plain.housed, plain_wall)
    line("greedy nearest plot", g_cost, int(gf.sum()), greedy_wall)
    print(f"[{name}] optimiser cost terms {ours.cost.as_dict()}")
    print(f"[{name}] plain MCF cost terms {plain.cost.as_dict()}")
    print(f"[{name}] LP lower bound (pruned arcs, at max flow) EUR {lb:,.0f} ({lb_wall:.1f}s); "
          f"optimiser stats {ours.stats}; hard-constraint violations: {len(violations)}")
    res = {
        "complexes": len(demands), "homes": int(supply.sum()), "plots": len(plots),
        "wall_s": round(wall, 3), "objective_eur": round(ours.cost.total, 2), "unit_km": ours.cost.transport_unit_km,
        "splits": ours.cost.splits, "housed": ours.housed, "unassigned_homes": ours.unassigned,
        "max_flow_bound": bound, "housed_equals_max_flow": ours.housed == bound,
        "plain_mcf_objective_eur": round(plain.cost.total, 2), "plain_mcf_splits": plain.cost.splits,
        "plain_mcf_housed": plain.housed, "plain_mcf_min_group_violations": plain.stats.get("min_group_violations"),
        "greedy_objective_eur": round(g_cost.total, 2), "greedy_housed": int(gf.sum()), "greedy_splits": g_cost.splits,
        "ratio_to_plain_mcf": round(ours.cost.total / plain.cost.total, 4),
        "saving_vs_plain_mcf_pct": round(100 * (1 - ours.cost.total / plain.cost.total), 2),
        "ratio_to_greedy": round(ours.cost.total / g_cost.total, 4) if g_cost.total else None,
        "lower_bound_eur": round(lb, 2), "gap_to_lower_bound_pct": round(100 * (ours.cost.total - lb) / max(lb, 1e-9), 2),
        "violations": len(violations), "peak_rss_mb": round(rss_mb(), 1), "stats": ours.stats,
    }
    print(f"[{name}] saving vs plain MCF {res['saving_vs_plain_mcf_pct']}%  ratio to greedy {res['ratio_to_greedy']}  "
          f"gap to LB {res['gap_to_lower_bound_pct']}%  housed==max-flow {res['housed_equals_max_flow']}  "
          f"peak RSS {res['peak_rss_mb']} MB")
    return res


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="national,large")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    results = {name: run_scale(name, args.seed, SCALES[name]) for name in args.scales.split(",")}
    print(json.dumps({"bench": "matching_solver", "seed": args.seed, "results": results}))


if __name__ == "__main__":
    main()
