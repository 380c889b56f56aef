"""Benchmark of the matching optimiser on seeded national instances (real municipality coordinates).

Scales: small (60 complexes / 2,400 homes / 30 plots: exact), national (1,000 / 40,000 / 500) and
large (5,000 / 100,000 / 5,000).
Per scale, in the same run: the optimiser (services/matching/app/optimiser/solver.py), the plain
min-cost max-flow (exact for distance, blind to splits: the baseline to beat), a greedy
nearest-feasible-plot baseline, the maximum number of homes that can be housed at all (max flow over
ALL feasible pairs, unpruned) and the best lower bound on cost we can compute: the LP relaxation and,
where the instance allows (national), the dual bound HiGHS proves on the whole fixed-charge MIP. Costs are
counted net of the unavoidable shortfall: every compared plan houses the max-flow maximum, so no
shortfall penalty enters. It also prints the range of plot-readiness cost over all plans that house
the maximum at the ladder minimum: where that range is one number, the rules fix it and no plan can
save on it (the saving is then also shown on the cost without it).
The bound holds for every plan housing as many homes with no more ladder points than ours. At the ladder
minimum it is taken over the ladder face; a plan that climbed (to keep groups together) is bounded over
the near-face (`bounds.near_face`: the arcs and limits any plan within its ladder budget must keep), by its
LP, the Lagrangian and the lean fixed-charge MIP there (`bounds.fctp_mip_bound`); the LP with the ladder
row alone, the bound before, is printed beside it (`gap_pct_with_lp_only`).
`bench/face_mip_curve.py` runs the face MIP for minutes and prints its dual bound and best plan over time.

Run: .venv/bin/python bench/matching_solver.py [--scales national,large] [--seed 7] [--min-follow-up-years 5] [--solve-s 30]
The last printed line is one JSON object with all figures.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing
import resource
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
from ortools.graph.python import max_flow

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dataclasses  # noqa: E402

from services.matching.app.optimiser import bounds as LB  # noqa: E402
from services.matching.app.optimiser import costs as C  # noqa: E402
from services.matching.app.optimiser import solver as S  # noqa: E402
from services.matching.app.optimiser.pairs import Columns  # noqa: E402
from services.matching.app.optimiser.rules import feasible_block  # noqa: E402
from shared.domain import BblLevel, Doelgroep, PermitInstrument, SiteKind  # noqa: E402
from shared.reference import municipalities  # noqa: E402

SCALES = {
    # small: few enough arcs for the exact MIP (the fewest pieces below a minimum group is then proven)
    "small": dict(complexes=60, homes=2_400, plots=30, time_limit_s=10.0, bound_s=20.0, face_mip_s=20.0),
    "national": dict(complexes=1_000, homes=40_000, plots=500, time_limit_s=4.0, bound_s=60.0, face_mip_s=60.0),
    "large": dict(complexes=5_000, homes=100_000, plots=5_000, time_limit_s=45.0, bound_s=120.0),
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
        # a third of the stock was built to the Bbl tijdelijk level: temporary-permit plots only
        bbl = BblLevel.tijdelijk if rng.random() < 0.35 else BblLevel.nieuwbouw
        dg = frozenset(groups[x] for x in rng.choice(len(groups), size=rng.integers(1, 3), replace=False))
        demands.append(
            S.Demand(
                key=f"d{i}", units=int(units[i]), lat=g.lat + rng.normal(0, 0.02), lon=g.lon + rng.normal(0, 0.02),
                gemeente_code=g.code, province_code=g.province_code,
                end_date=TODAY + dt.timedelta(days=int(rng.integers(30, 730))),
                bbl_level=bbl, composition_changed=bool(bbl is BblLevel.nieuwbouw and rng.random() < 0.1),
                layers=int(rng.choice([1, 2, 2, 3, 3])), doelgroepen=dg, social_rent=bool(rng.random() < 0.6),
                min_group_size=int(rng.choice([1, 1, 1, 5, 10, 15])),
            )
        )
    # supply with slack: plot places ~118% of the homes, so with room to choose readiness matters
    capacity_total = int(homes * 1.18)
    n_garantie = max(1, plots // 25)
    rawc = rng.gamma(2.5, 1.0, plots)
    caps = np.maximum(2, np.floor(rawc / rawc.sum() * capacity_total)).astype(int)
    instruments = [PermitInstrument.ow_bopa, PermitInstrument.ow_plan_tijdelijk, PermitInstrument.wabo_bor4_11,
                   PermitInstrument.wro_voorlopig, PermitInstrument.permanent, PermitInstrument.chw_experiment]
    out = []
    for j in range(plots):
        garantie = j < n_garantie
        g = municipalities()[GARANTIE_GEMEENTEN[j % 5]] if garantie else gms[rng.integers(len(gms))]
        # a third of the plots are permanent locations (no tijdelijk-level homes)
        instrument = PermitInstrument.ow_bopa if garantie else instruments[rng.choice(6, p=[0.25, 0.15, 0.15, 0.05, 0.32, 0.08])]
        start = TODAY + dt.timedelta(days=int(rng.integers(-180, 800)))
        restricted = (not garantie) and rng.random() < 0.2
        out.append(
            S.Plot(
                key=f"p{j}", free_units=50 if garantie else int(caps[j]),
                lat=g.lat + rng.normal(0, 0.02), lon=g.lon + rng.normal(0, 0.02),
                gemeente_code=g.code, province_code=g.province_code, available_from=start,
                available_until=None if rng.random() < 0.5 else start + dt.timedelta(days=int(rng.integers(3, 16) * 365)),
                kind=SiteKind.garantiekavel if garantie else SiteKind.municipal, expected_instrument=instrument,
                max_layers=int(rng.choice([1, 2, 2, 3, 4])), allows_tijdelijk_bbl=instrument is not PermitInstrument.permanent,
                allows_permanent=instrument is PermitInstrument.permanent or rng.random() < 0.3,
                doelgroep_restrictions=frozenset(groups[x] for x in rng.choice(len(groups), size=rng.integers(3, 7), replace=False)) if restricted else frozenset(),
                # readiness varies: ~45% bouwrijp, ~55% with every utility connected
                bouwrijp=bool(garantie or rng.random() < 0.45), utilities_complete=bool(garantie or rng.random() < 0.55),
                exclusions=frozenset({"natura2000"}) if rng.random() < 0.03 else frozenset(),
            )
        )
    return demands, out


def max_flow_all_pairs(demands, plots, w) -> tuple[int, int]:
    """The most homes any plan can house: max flow over every feasible pair (no pruning)."""
    a = Columns(demands, plots, w)
    units, free = a.d.units, a.p.free_units
    n, m = len(demands), len(plots)
    smf = max_flow.SimpleMaxFlow()
    src, snk = n + m, n + m + 1
    pairs = 0
    for lo in range(0, n, 256):
        rows = np.arange(lo, min(n, lo + 256))
        r, c = np.nonzero(feasible_block(a, rows, w))
        pairs += len(r)
        smf.add_arcs_with_capacity(rows[r], n + c, np.minimum(units[rows[r]], free[c]))
    smf.add_arcs_with_capacity(np.full(n, src), np.arange(n), units)
    smf.add_arcs_with_capacity(n + np.arange(m), np.full(m, snk), free)
    assert smf.solve(src, snk) == smf.OPTIMAL
    return int(smf.optimal_flow()), pairs


def greedy(demands, plots, w) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Lowest ladder rung, then nearest feasible plot first, demands in order of end date (what a desk would do)."""
    a = Columns(demands, plots, w)
    free = a.p.free_units.copy()
    order = sorted(range(len(demands)), key=lambda i: demands[i].end_date)
    di, pj, fl = [], [], []
    for lo in range(0, len(order), 256):
        rows = np.array(order[lo : lo + 256])
        ok = feasible_block(a, rows, w)
        pair = C.pair_costs(*a.block(rows), w)
        # same ladder priority as the optimiser: rung first, distance within the rung
        dist = np.where(ok, pair.priority + pair.dist, np.inf)
        for r, i in enumerate(rows):
            left = int(a.d.units[i])
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
    return S.arcs_for(Columns(demands, plots, w), w, di, pj)


def readiness_range(n: int, m: int, arcs: S.Arcs, supply: np.ndarray, capacity: np.ndarray, w: S.Weights) -> tuple[float, float]:
    """The least and the most plot-readiness EUR any plan housing the maximum at the ladder minimum can have.

    Two min-cost max flows with the ladder priority scaled far above any readiness difference
    (one step of one home outweighs the readiness of every home), minimising and maximising readiness.
    """
    readiness = arcs.eur_per_home("readiness", w)
    dominant = arcs.priority * (float(readiness.max(initial=0.0)) * float(supply.sum()) / max(w.ladder_step_per_unit, 1.0) + 1.0)
    low = S.min_cost_max_flow(n, m, arcs, supply, capacity, dominant + readiness)
    high = S.min_cost_max_flow(n, m, arcs, supply, capacity, dominant + (readiness.max(initial=0.0) - readiness))
    return float(np.dot(readiness, low)), float(np.dot(readiness, high))


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_scale(name: str, seed: int, spec: dict, min_follow_up_years: float | None = None) -> dict:
    sys.stdout.reconfigure(line_buffering=True)  # a child process writing to a pipe: show progress as it comes
    w = S.Weights()
    if min_follow_up_years is not None:
        w = dataclasses.replace(w, min_follow_up_years=min_follow_up_years)
    t = time.perf_counter()
    demands, plots = generate(seed, spec["complexes"], spec["homes"], spec["plots"])
    print(f"[{name}] generated {len(demands)} complexes / {sum(d.units for d in demands)} homes / {len(plots)} plots "
          f"({sum(p.free_units for p in plots)} plot places) in {time.perf_counter() - t:.1f}s")

    t = time.perf_counter()
    bound, all_pairs = max_flow_all_pairs(demands, plots, w)
    print(f"[{name}] max-flow bound over all {all_pairs} feasible pairs: {bound} homes ({time.perf_counter() - t:.1f}s)")

    # the optimiser, timed end to end (arc building included)
    t = time.perf_counter()
    ours = S.solve(demands, plots, w, k=20, method="search", time_limit_s=spec["time_limit_s"])
    wall = time.perf_counter() - t
    optimiser_rss = rss_mb()  # before the baselines and bounds, which need memory of their own
    violations = S.verify(demands, plots, ours.allocations, w)
    arcs = ours.arcs
    supply = np.array([d.units for d in demands], dtype=np.int64)
    capacity = np.array([p.free_units for p in plots], dtype=np.int64)
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), supply)

    # the baseline: min-cost max-flow on the same arcs and the same ladder priority, blind to splits
    t = time.perf_counter()
    plain = S.solve(demands, plots, w, method="mcf", arcs=arcs)
    plain_wall = time.perf_counter() - t
    plain.cost = C.breakdown(arcs, plain.flow, w, groups)  # its min-group offences cost it the penalty too

    t = time.perf_counter()
    gd, gp, gf = greedy(demands, plots, w)
    greedy_wall = time.perf_counter() - t
    garcs = arcs_for(demands, plots, w, gd, gp)
    g_cost = C.breakdown(garcs, gf, w, groups)

    t = time.perf_counter()
    n = len(demands)
    ladder_min = S.ladder_minimum(n, len(plots), arcs, supply, capacity)
    lb = S.lower_bound(n, arcs, supply, capacity, w, ours.housed, ladder_max=ladder_min)
    lb_wall = time.perf_counter() - t
    # The bound at the ladder minimum (the ladder face): Lagrangian with exact per-complex split patterns,
    # and HiGHS on the fixed-charge MIP over the face's arcs only (about a fifth of them) for its dual bound.
    t = time.perf_counter()
    eur_w = dataclasses.replace(w, min_group_before_ladder=False)  # the bound MIP: one EUR stage, penalty included
    face_plan_eur = ours.stats.get("face_plan_eur", ours.cost.total if abs(ours.cost.ladder - ladder_min) < 1e-3 else None)
    lag = LB.lagrangian_bound(n, arcs, supply, capacity, w, ours.housed, ladder_min, upper=face_plan_eur,
                              time_limit_s=spec["bound_s"])
    lag_wall = time.perf_counter() - t
    def near_face_mip(start: np.ndarray, ladder: float, label: str) -> float | None:
        """HiGHS's dual bound on the fixed-charge MIP over the near-face's arcs (the plans with at most `ladder` points)."""
        if not spec.get("face_mip_s"):
            return None
        t = time.perf_counter()
        nf = LB.near_face(n, arcs, supply, capacity, ours.housed, ladder)
        if nf is None or start[np.setdiff1d(np.arange(len(start)), nf.keep)].any():
            return None
        sub = LB.near_face_arcs(nf, arcs)
        # its ladder row holds the start's points: the MIP's plans are exactly those within the budget
        _, fm = S.mip_improve(sub, start[nf.keep], supply, capacity, groups, eur_w, np.arange(n), spec["face_mip_s"])
        print(f"[{name}] MIP over the {label} ({len(nf.keep)} arcs, {spec['face_mip_s']}s): dual bound EUR "
              f"{(fm.get('mip_dual_bound') or float('nan')):,.0f} ({time.perf_counter() - t:.0f}s)")
        return fm.get("mip_dual_bound")

    def lean_mip(start: np.ndarray, ladder: float, label: str) -> dict:
        """The lean fixed-charge MIP over the near-face (`bounds.fctp_mip_bound`): its dual bound and best plan."""
        if not spec.get("face_mip_s"):
            return {}
        out = LB.fctp_mip_bound(n, arcs, supply, capacity, w, ours.housed, ladder, spec["face_mip_s"], start=start)
        print(f"[{name}] lean MIP over the {label} ({out.get('arcs')} arcs, {out.get('covers')} cover rows, "
              f"{spec['face_mip_s']}s, {out.get('nodes')} nodes): dual bound EUR {out.get('bound') or float('nan'):,.0f}, "
              f"its best plan EUR {out.get('plan_eur_without_min_group') or float('nan'):,.0f} without min-group "
              f"penalties ({out.get('seconds'):.0f}s)")
        return out

    face_mip_bound = face_lean = None
    face_start = ours.flow if abs(ours.cost.ladder - ladder_min) < 1e-3 else S.min_cost_max_flow(
        n, len(plots), arcs, supply, capacity, arcs.priority / S.COST_SCALE)
    if lag.get("ladder_face"):
        face_mip_bound = near_face_mip(face_start, ladder_min, "ladder face")  # the plan's MIP (min-group columns too)
        face_lean = lean_mip(face_start, ladder_min, "ladder face").get("bound")
    face_bound = max(x for x in (lag.get("bound"), face_mip_bound, face_lean, lb, 0.0) if x is not None)
    print(f"[{name}] bound at the ladder minimum: LP EUR {lb or float('nan'):,.0f}, Lagrangian EUR "
          f"{lag.get('lagrangian') or float('nan'):,.0f} ({lag.get('rounds')} rounds, {lag_wall:.0f}s), face MIP EUR "
          f"{face_mip_bound or float('nan'):,.0f}, lean face MIP EUR {face_lean or float('nan'):,.0f}: EUR {face_bound:,.0f}")
    # A plan that climbed the ladder to keep groups together is bounded among plans with its ladder points:
    # over the near-face (`bounds.near_face`: reduced-cost fixing on the ladder LP; the LP with the ladder row
    # alone was the bound before). Its readiness is then no longer fixed by the rules: the least readiness any
    # such plan can have is subtracted instead.
    on_face = abs(ours.cost.ladder - ladder_min) < 1e-3
    near = {}
    off_face_lp = None
    if on_face:
        plan_bound = face_bound
    else:
        t = time.perf_counter()
        near = LB.lagrangian_bound(n, arcs, supply, capacity, w, ours.housed, ours.cost.ladder, upper=ours.cost.total,
                                   time_limit_s=spec["bound_s"])
        near_lag_wall = time.perf_counter() - t
        near_mip = lean_mip(ours.flow, ours.cost.ladder, "near-face").get("bound")
        off_face_lp = near.get("lp_bound")
        plan_bound = max(x for x in (near.get("bound"), near_mip, off_face_lp, 0.0) if x is not None)
        near.update({"mip": near_mip, "lagrangian_s": round(near_lag_wall, 1)})
        print(f"[{name}] bound at the plan's ladder ({(ours.cost.ladder - ladder_min) / w.ladder_step_per_unit:.0f} steps "
              f"above the minimum): LP with the ladder row EUR {off_face_lp or float('nan'):,.0f}, near-face LP EUR "
              f"{near.get('face_lp_bound') or float('nan'):,.0f} ({near.get('arcs_near_face')} arcs), Lagrangian EUR "
              f"{near.get('lagrangian') or float('nan'):,.0f} ({near.get('rounds')} rounds, {near_lag_wall:.0f}s), near-face "
              f"MIP EUR {near_mip or float('nan'):,.0f}: EUR {plan_bound:,.0f}")
    # the same lean MIP within the solve's budget (5 s): the bound the service could afford beside each plan
    quick = LB.fctp_mip_bound(n, arcs, supply, capacity, w, ours.housed, ours.cost.ladder, 5.0, start=ours.flow)
    print(f"[{name}] lean MIP at the plan's ladder, HiGHS given 5 s: dual bound EUR {quick.get('bound') or float('nan'):,.0f} "
          f"({quick.get('seconds', 0):.1f}s with the near-face built)")
    readiness_arcs = dataclasses.replace(arcs, cost=arcs.eur_per_home("readiness", w))
    plan_floor = S.lower_bound(n, readiness_arcs, supply, capacity, dataclasses.replace(w, split_fixed_eur=0.0),
                               ours.housed, ladder_max=ours.cost.ladder) or 0.0
    if not on_face:  # the same least readiness over the near-face (integral plans: possibly higher), for comparison
        nf = LB.near_face(n, arcs, supply, capacity, ours.housed, ours.cost.ladder)
        near["readiness_floor"] = S.lower_bound(
            n, dataclasses.replace(LB.near_face_arcs(nf, arcs), cost=arcs.eur_per_home("readiness", w)[nf.keep]), supply,
            capacity, dataclasses.replace(w, split_fixed_eur=0.0), ours.housed, ladder_max=ours.cost.ladder,
            arc_lower=nf.lo, complex_min=nf.complex_lo, plot_min=nf.plot_lo)
        print(f"[{name}] least readiness of a plan with the plan's ladder points: LP EUR {plan_floor:,.0f}, over the "
              f"near-face EUR {near['readiness_floor'] or float('nan'):,.0f}")
    # A stronger bound where the instance allows: HiGHS on the whole fixed-charge MIP (root cuts and
    # branching) from our plan, same homes housed and ladder; its dual bound holds for every such plan.
    mip_bound = mip_plan_cost = None
    if spec.get("mip_bound_s"):
        t = time.perf_counter()
        mip_flow, mip_stats = S.mip_improve(arcs, ours.flow, supply, capacity, groups, w, np.arange(len(demands)),
                                            spec["mip_bound_s"])
        mip_bound, mip_plan_cost = mip_stats.get("mip_dual_bound"), C.breakdown(arcs, mip_flow, w, groups).total
        print(f"[{name}] whole MIP ({spec['mip_bound_s']}s, {mip_stats.get('mip_nodes')} nodes): dual bound EUR "
              f"{mip_bound:,.0f}, its best plan EUR {mip_plan_cost:,.0f} ({time.perf_counter() - t:.0f}s)")
    best_bound = max(plan_bound, mip_bound or 0.0)
    r_low, r_high = readiness_range(len(demands), len(plots), arcs, supply, capacity, w)
    # Readiness the rules fix: what every plan housing the maximum at the ladder minimum pays alike.
    invariant = r_low if abs(r_high - r_low) < 0.5 else 0.0
    print(f"[{name}] plot readiness over all max-housing plans at the ladder minimum: EUR {r_low:,.0f} .. {r_high:,.0f}"
          + (" (the same in every such plan)" if invariant else ""))

    def line(label: str, cost: S.CostBreakdown, housed: int, secs: float) -> None:
        print(f"[{name}] {label:<22} wall {secs:7.2f}s  housed {housed:>7}  unassigned {sum(supply) - housed:>6}  "
              f"cost EUR {cost.total:>14,.0f}  unit-km {cost.transport_unit_km:>11,.0f}  splits {cost.splits:>5}  "
              f"min-group offences {cost.min_group_violations:>4}  ladder pts {cost.ladder:>14,.0f}")

    line("optimiser (search)", ours.cost, ours.housed, wall)
    line("plain min-cost flow", plain.cost, plain.housed, plain_wall)
    line("greedy nearest plot", g_cost, int(gf.sum()), greedy_wall)
    g_unassigned, o_unassigned = int(supply.sum() - gf.sum()), ours.unassigned
    print(f"[{name}] unassigned homes: greedy {g_unassigned}, optimiser {o_unassigned} (unavoidable: "
          f"{int(supply.sum()) - bound}); greedy leaves "
          f"{(g_unassigned / o_unassigned) if o_unassigned else float('inf'):.1f}x as many homes without a plot")
    print(f"[{name}] optimiser cost terms {ours.cost.model_dump(by_alias=False)}")
    print(f"[{name}] plain MCF cost terms {plain.cost.model_dump(by_alias=False)}")
    print(f"[{name}] ladder minimum {ladder_min:,.0f} pts; optimiser at it: {abs(ours.cost.ladder - ladder_min) < 1e-3}; "
          f"LP lower bound (pruned arcs, max flow, ladder minimum) EUR {lb or float('nan'):,.0f} ({lb_wall:.1f}s)")
    print(f"[{name}] optimiser stats {ours.stats}; hard-constraint violations: {len(violations)}")
    res = {
        "complexes": len(demands), "homes": int(supply.sum()), "plots": len(plots), "plot_places": int(capacity.sum()),
        "wall_s": round(wall, 3), "objective_eur": round(ours.cost.total, 2), "unit_km": ours.cost.transport_unit_km,
        "splits": ours.cost.splits, "min_group_offences": ours.cost.min_group_violations,
        "housed": ours.housed, "unassigned_homes": o_unassigned,
        "max_flow_bound": bound, "housed_equals_max_flow": ours.housed == bound,
        "ladder_points": ours.cost.ladder, "ladder_minimum": ladder_min,
        "ladder_at_minimum": abs(ours.cost.ladder - ladder_min) < 1e-3,
        "plain_mcf_objective_eur": round(plain.cost.total, 2), "plain_mcf_splits": plain.cost.splits,
        "plain_mcf_housed": plain.housed, "plain_mcf_min_group_offences": plain.cost.min_group_violations,
        "greedy_objective_eur": round(g_cost.total, 2), "greedy_housed": int(gf.sum()), "greedy_splits": g_cost.splits,
        "greedy_unassigned_homes": g_unassigned,
        "greedy_unassigned_ratio": round(g_unassigned / o_unassigned, 2) if o_unassigned else None,
        "ratio_to_plain_mcf": round(ours.cost.total / plain.cost.total, 4),
        "saving_vs_plain_mcf_pct": round(100 * (1 - ours.cost.total / plain.cost.total), 2),
        "ratio_to_greedy": round(ours.cost.total / g_cost.total, 4) if g_cost.total else None,
        "lp_lower_bound_eur": None if lb is None else round(lb, 2), "mip_dual_bound_eur": None if mip_bound is None else round(mip_bound, 2),
        "mip_plan_eur": None if mip_plan_cost is None else round(mip_plan_cost, 2),
        "lower_bound_eur": round(best_bound, 2),
        "gap_to_lower_bound_pct": round(100 * (ours.cost.total - best_bound) / max(best_bound, 1e-9), 2),
        "max_saving_vs_plain_mcf_pct": round(100 * (1 - best_bound / plain.cost.total), 2),
        "readiness_range_eur": [round(r_low, 2), round(r_high, 2)],
        "saving_vs_plain_mcf_excl_fixed_readiness_pct": round(
            100 * (plain.cost.total - ours.cost.total) / max(plain.cost.total - invariant, 1e-9), 2),
        "violations": len(violations), "peak_rss_mb": round(optimiser_rss, 1), "bench_peak_rss_mb": round(rss_mb(), 1),
        # the gap on the cost a plan can change (net of the readiness every plan in its class pays)
        "cost_eur": round(ours.cost.total, 2), "mcf_cost_eur": round(plain.cost.total, 2),
        "changeable_cost_eur": round(ours.cost.total - (r_low if on_face else plan_floor), 2),
        "bound_eur": round(best_bound, 2), "changeable_floor_eur": round(best_bound - (r_low if on_face else plan_floor), 2),
        "gap_pct": round(100 * (ours.cost.total - best_bound) / max(best_bound - (r_low if on_face else plan_floor), 1e-9), 2),
        "plan_at_ladder_minimum": on_face,
        "min_group_pieces": ours.cost.min_group_violations, "plain_mcf_min_group_pieces": plain.cost.min_group_violations,
        "min_group_fewest": ours.stats.get("min_group_fewest"),
        # at the ladder minimum (before any climb for groups): the plan, the bound and their gap
        "face_plan_eur": face_plan_eur, "face_plan_min_group_pieces": ours.stats.get("face_plan_small_pieces"),
        "face_bound_eur": round(face_bound, 2), "face_lp_eur": lb, "face_lagrangian_eur": lag.get("lagrangian"),
        "face_lagrangian_rounds": lag.get("rounds"), "face_lagrangian_s": round(lag_wall, 1), "face_mip_bound_eur": face_mip_bound, "face_lean_mip_bound_eur": face_lean,
        "face_gap_pct": None if face_plan_eur is None else
        round(100 * (face_plan_eur - face_bound) / max(face_bound - r_low, 1e-9), 2),
        "greedy_unassigned": g_unassigned,
        # off the face: the bound over the near-face, and the LP with the ladder row alone (the bound before it)
        "near_face_lp_eur": near.get("face_lp_bound"), "near_face_lagrangian_eur": near.get("lagrangian"),
        "near_face_lagrangian_s": near.get("lagrangian_s"), "near_face_mip_bound_eur": near.get("mip"),
        "near_face_arcs": near.get("arcs_near_face"), "off_face_lp_eur": off_face_lp,
        "gap_pct_with_lp_only": None if off_face_lp is None else
        round(100 * (ours.cost.total - off_face_lp) / max(off_face_lp - plan_floor, 1e-9), 2),
        "near_face_readiness_floor_eur": near.get("readiness_floor"), "bound_5s_eur": quick.get("bound"),
        "bound_5s_s": quick.get("seconds"),
        "min_follow_up_years": w.min_follow_up_years,
        "stats": {k: v for k, v in ours.stats.items()},
    }
    print(f"[{name}] saving vs plain MCF {res['saving_vs_plain_mcf_pct']}%  ratio to greedy (EUR) {res['ratio_to_greedy']}  "
          f"gap to best LB {res['gap_to_lower_bound_pct']}% (no plan can save more than "
          f"{res['max_saving_vs_plain_mcf_pct']}%)  housed==max-flow {res['housed_equals_max_flow']}  "
          f"peak RSS {res['peak_rss_mb']} MB")
    print(f"[{name}] changeable cost EUR {res['changeable_cost_eur']:,.0f} vs floor EUR {res['changeable_floor_eur']:,.0f}: "
          f"gap {res['gap_pct']}% (plan at the ladder minimum: {on_face}); at the ladder minimum: plan EUR "
          f"{(face_plan_eur or float('nan')):,.0f}, bound EUR {face_bound:,.0f}, gap {res['face_gap_pct']}%; pieces below "
          f"the minimum group {res['min_group_pieces']} (fewest possible: {res['min_group_fewest']}; plain MCF "
          f"{res['plain_mcf_min_group_pieces']})")
    return res


def proposals_for_waiting(seed: int, placements: int = 500, plots: int = 500) -> dict:
    """What a site event costs the handler: proposals (plan, cost, binding constraints, alternatives) for 500 placements."""
    from services.matching.app.config import MatchingSettings
    from services.matching.app.optimiser import explain

    settings = MatchingSettings(environment="development")
    w = settings.weights()
    demands, sites = generate(seed + 1, placements, placements * 40, plots)
    t = time.perf_counter()
    sol = S.solve(demands, sites, w, k=settings.arc_k, time_limit_s=settings.proposal_time_limit_s)
    t_solve = time.perf_counter() - t
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), np.array([d.units for d in demands]))
    capacity = np.array([p.free_units for p in sites], dtype=np.int64)
    binding = explain.BindingConstraints(demands, sites, w)
    by_demand = sol.by_demand()
    n_alts = 0
    for i, d in enumerate(demands):
        explain.demand_cost(sol, i, groups, w)
        binding.of(i, by_demand.get(i, []), d)
        n_alts += len(explain.alternatives(sol, i, d, sites, capacity, w))
        explain.passed_over(sol, i, d, sites, capacity, w)
    total = time.perf_counter() - t
    print(f"[proposals] {placements} waiting placements x {plots} plots: solve {t_solve:.2f}s, explain "
          f"(cost, binding constraints, {n_alts} alternatives, 5 passed-over plots each) {total - t_solve:.2f}s, total {total:.2f}s "
          f"({1000 * total / placements:.1f} ms per proposal; DB writes not included)")
    return {"placements": placements, "plots": plots, "solve_s": round(t_solve, 3), "explain_s": round(total - t_solve, 3),
            "total_s": round(total, 3), "alternatives": n_alts}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--scales", default="small,national,large")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--whole-mip-s", type=float, default=0.0,
                        help="also run HiGHS on the whole fixed-charge MIP for this long (its dual bound; minutes)")
    parser.add_argument("--min-follow-up-years", type=float, default=None,
                        help="policy: the least years a plot must be available after placement (default: Weights())")
    parser.add_argument("--solve-s", type=float, default=None,
                        help="the optimiser's time budget at every scale (default: the scale's own, national 4 s)")
    args = parser.parse_args()
    if args.solve_s is not None:
        for spec in SCALES.values():
            spec["time_limit_s"] = args.solve_s
    if args.whole_mip_s:
        for spec in SCALES.values():
            spec["mip_bound_s"] = args.whole_mip_s
    # each scale in a fresh process: peak RSS (a lifetime high-water mark) is then that scale's own
    results = {}
    for name in args.scales.split(","):
        with ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
            results[name] = pool.submit(run_scale, name, args.seed, SCALES[name], args.min_follow_up_years).result()
    results["proposals_500"] = proposals_for_waiting(args.seed)
    print(json.dumps({"bench": "matching_solver", "seed": args.seed, "min_follow_up_years": args.min_follow_up_years,
                      "solve_s": args.solve_s, "results": results}))


if __name__ == "__main__":
    main()
