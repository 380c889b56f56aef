"""Proposal explanations come from the solved arc set: alternatives, binding constraints, per-term cost."""

from __future__ import annotations

import dataclasses
from collections import Counter

import numpy as np

from services.matching.app.optimiser import explain
from services.matching.app.optimiser.solver import pair_violations, solve
from services.matching.tests.optimiser.test_constraints import FAR, HOME, NEAR, W
from shared.domain import LadderRung


def test_alternatives_are_the_next_best_plots_by_ladder_then_cost_within_free_capacity():
    own = dataclasses.replace(NEAR, key="own", max_layers=3)
    own_far = dataclasses.replace(FAR, key="own-far", max_layers=3)  # same gemeente, 11 km
    unready = dataclasses.replace(own, key="unready", lat=52.2160, bouwrijp=False)  # same gemeente, not bouwrijp
    regio = dataclasses.replace(own, key="regio", gemeente_code="GM0232", lat=52.2500)
    # the nearest plot, but the other complex (4 layers) can go nowhere else: it fills it
    taken = dataclasses.replace(NEAR, key="taken", free_units=20, lat=52.2130, max_layers=4)
    other = dataclasses.replace(HOME, key="other", lat=52.2130, layers=4)
    plots = [regio, unready, own_far, own, taken]
    sol = solve([HOME, other], plots, W)
    chosen = {plots[a.plot].key for a in sol.allocations if a.demand == 0}
    capacity = np.array([p.free_units for p in plots])
    alts = explain.alternatives(sol, 0, HOME, plots, capacity, W)
    keys = [[x["site_id"] for x in alt["allocations"]] for alt in alts]
    assert all(not chosen & set(k) for k in keys)  # never the plan itself
    assert chosen == {"own"}
    assert "taken" not in {k for ks in keys for k in ks}  # no capacity the plan gives another complex
    leads = [k[0] for k in keys]
    assert leads[:2] == ["own-far", "unready"] and leads[2] == "regio"  # gemeente rung first, EUR within it
    assert alts[2]["allocations"][0]["rung"] == LadderRung.regio.value
    assert alts[1]["cost"]["readiness"] == 20 * W.site_prep_share * W.relocation_cost_eur_per_unit
    assert all(alt["housed_units"] == 20 for alt in alts)


def test_binding_constraints_count_what_each_rule_rules_out():
    plots = [dataclasses.replace(NEAR, key="p1", max_layers=1), dataclasses.replace(NEAR, key="p2", exclusions=frozenset({"x"})),
             dataclasses.replace(FAR, key="p3", max_layers=1, social_rent_only=True), FAR]
    demand = dataclasses.replace(HOME, layers=2)
    sol = solve([demand], plots, W)
    expected = Counter(v for p in plots for v in pair_violations(demand, p, W))
    lines = explain.BindingConstraints([demand], plots, W).of(0, sol.allocations)
    assert lines == [f"{r}: {c} plot(s) ruled out" for r, c in sorted(expected.items())]
    assert explain.demand_cost(sol, 0, np.array([1]), W).total == sol.cost.total


def test_the_nearest_unused_plots_each_say_why_not_from_the_rule_registry():
    own = dataclasses.replace(NEAR, key="own", lat=52.2140, max_layers=3)  # 3 layers: the other complex (4) cannot
    stacked = dataclasses.replace(NEAR, key="stacked", lat=52.2113, max_layers=1)  # nearest, but one layer only
    taken = dataclasses.replace(NEAR, key="taken", free_units=20, lat=52.2115, max_layers=4)  # the other complex's only plot
    regio = dataclasses.replace(own, key="regio", gemeente_code="GM0232", lat=52.2120)  # near, but another gemeente
    unready = dataclasses.replace(own, key="unready", lat=52.2200, bouwrijp=False)  # same gemeente, dearer
    other = dataclasses.replace(HOME, key="other", lat=52.2115, layers=4)
    demand = dataclasses.replace(HOME, layers=2)
    plots = [unready, regio, taken, stacked, own]
    sol = solve([demand, other], plots, W)
    assert {plots[a.plot].key for a in sol.allocations if a.demand == 0} == {"own"}
    capacity = np.array([p.free_units for p in plots])
    why = explain.passed_over(sol, 0, demand, plots, capacity, W)
    assert [x["site_id"] for x in why] == ["stacked", "taken", "regio", "unready"]  # by distance, the plan's own left out
    assert [x["reasons"] for x in why] == [["stacking"], ["full"], ["ladder"], ["cost"]]
    assert why[0]["reasons"] == pair_violations(demand, stacked, W)  # the registry's own verdict
    assert why[2]["rung"] == LadderRung.regio.value and why[1]["free_units"] == 0


def test_alternatives_are_distinct_plans_each_with_why_not():
    own = dataclasses.replace(NEAR, key="own")
    # two plots that only together take the complex: leading with either gives the same plan
    x = dataclasses.replace(NEAR, key="x", free_units=12, lat=52.2300)
    y = dataclasses.replace(NEAR, key="y", free_units=8, lat=52.2310)
    plots = [own, x, y]
    sol = solve([HOME], plots, W)
    alts = explain.alternatives(sol, 0, HOME, plots, np.array([p.free_units for p in plots]), W)
    plans = [frozenset((a["site_id"], a["units"]) for a in alt["allocations"]) for alt in alts]
    assert plans == [frozenset({("x", 12), ("y", 8)})]  # once, not twice in another order
    assert alts[0]["reasons"][0] == "split: over 2 plots" and alts[0]["reasons"][-1].startswith("cost: EUR ")


def test_the_passed_over_plots_of_many_offers_at_once_are_those_of_one_offer_at_a_time():
    import random

    from services.matching.app.proposals.service import plan_offers

    rng = random.Random(5)
    demands = [dataclasses.replace(HOME, key=f"d{i}", units=rng.randint(5, 30), layers=rng.choice([1, 2, 3]),
                                   lat=HOME.lat + rng.uniform(-0.3, 0.3), lon=HOME.lon + rng.uniform(-0.3, 0.3),
                                   excluded_plots=frozenset({f"p{rng.randrange(30)}"}))
               for i in range(40)]
    plots = [dataclasses.replace(NEAR, key=f"p{j}", free_units=rng.randint(0, 40), max_layers=rng.choice([1, 2, 3]),
                                 gemeente_code=rng.choice(["GM0200", "GM0232"]),
                                 lat=NEAR.lat + rng.uniform(-0.3, 0.3), lon=NEAR.lon + rng.uniform(-0.3, 0.3))
             for j in range(30)]
    sol = solve(demands, plots, W)
    offers, _ = plan_offers(demands, plots, [[]] * len(demands), W, 20, 2.0, 2.0, solution=sol)
    made = [o for o in offers if o.allocations]
    assert len(made) > 10
    # one offer at a time, each against the plots as its offer saw them (free units counted down)
    now, capacity = list(plots), np.array([p.free_units for p in plots])
    for offer in made:
        assert offer.passed_over == explain.passed_over(sol, offer.index, demands[offer.index], now, capacity, W)
        for a in offer.allocations:
            now[a.plot] = dataclasses.replace(now[a.plot], free_units=now[a.plot].free_units - a.units)
    reasons = {r for o in made for x in o.passed_over for r in x["reasons"]}
    assert {"capacity", "stacking", "declined_before"} <= reasons  # rules broken, and plots counted down to full
