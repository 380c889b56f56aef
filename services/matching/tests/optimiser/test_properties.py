"""Property: on random small instances no plan breaks a hard constraint or overbooks a plot, and housed = max flow."""

from __future__ import annotations

import datetime as dt

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import numpy as np

from services.matching.app.optimiser.solver import Demand, Plot, Weights, lower_bound, solve, verify
from shared.domain import BblLevel, Doelgroep, PermitInstrument, SiteKind

W = Weights()
GEMEENTEN = [("GM0200", "PV25", 52.21, 5.97), ("GM0232", "PV25", 52.35, 5.98), ("GM0344", "PV26", 52.09, 5.12),
             ("GM0363", "PV27", 52.37, 4.89)]
GROUPS = [Doelgroep.starters, Doelgroep.statushouders, Doelgroep.expats, Doelgroep.studenten]
BASE = dt.date(2027, 1, 1)

demands_st = st.lists(st.builds(
    lambda i, units, gm, days, bbl, changed, layers, groups, social, g: Demand(
        key=f"d{i}", units=units, lat=gm[2], lon=gm[3], gemeente_code=gm[0], province_code=gm[1],
        end_date=BASE + dt.timedelta(days=days), bbl_level=bbl, composition_changed=changed, layers=layers,
        doelgroepen=frozenset(groups), social_rent=social, min_group_size=g),
    st.integers(0, 10**6), st.integers(1, 30), st.sampled_from(GEMEENTEN), st.integers(0, 400), st.sampled_from(list(BblLevel)),
    st.booleans(), st.integers(1, 4), st.sets(st.sampled_from(GROUPS), max_size=2), st.booleans(), st.integers(1, 8),
), min_size=1, max_size=5, unique_by=lambda d: d.key)

plots_st = st.lists(st.builds(
    lambda i, free, gm, days, until, instrument, layers, tijd, perm, groups, social_only, garantie, excl, ready: Plot(
        key=f"p{i}", free_units=free, lat=gm[2] + 0.01, lon=gm[3], gemeente_code=gm[0], province_code=gm[1],
        available_from=BASE + dt.timedelta(days=days), available_until=None if until is None else BASE + dt.timedelta(days=until),
        kind=SiteKind.garantiekavel if garantie else SiteKind.municipal, expected_instrument=instrument, max_layers=layers,
        allows_tijdelijk_bbl=tijd, allows_permanent=perm, doelgroep_restrictions=frozenset(groups), social_rent_only=social_only,
        bouwrijp=ready, utilities_complete=ready, exclusions=frozenset({"natura2000"}) if excl else frozenset()),
    st.integers(0, 10**6), st.integers(0, 40), st.sampled_from(GEMEENTEN), st.integers(-200, 700),
    st.one_of(st.none(), st.integers(500, 6000)), st.sampled_from(list(PermitInstrument)), st.integers(1, 4), st.booleans(),
    st.booleans(), st.sets(st.sampled_from(GROUPS), max_size=3), st.booleans(), st.booleans(), st.booleans(), st.booleans(),
), min_size=1, max_size=6, unique_by=lambda p: p.key)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(demands_st, plots_st, st.sampled_from(["exact", "search", "slope_scaling"]))
def test_no_plan_breaks_a_hard_constraint_or_overbooks(demands, plots, method):
    sol = solve(demands, plots, W, method=method, time_limit_s=2.0)
    assert verify(demands, plots, sol.allocations, W) == []
    assert sol.housed == sol.max_flow  # every housable home is housed, min group sizes or not
    if sol.arcs is not None and len(sol.arcs.demand):
        # the herplaatsingsladder comes before EUR: no plan climbs higher than the least any max-flow plan must
        # (with the fewest pieces below a minimum group, which rank above the ladder, where the MIP staged them)
        assert sol.cost.ladder == sol.stats.get("ladder_at_fewest", sol.stats["ladder_minimum"])
        assert sol.cost.ladder >= sol.stats["ladder_minimum"]


# Instances where every pair is feasible: the cost trade-offs (ladder, splits, min group, readiness) decide.
open_demands_st = st.lists(st.builds(
    lambda i, units, gm, days, g: Demand(
        key=f"d{i}", units=units, lat=gm[2], lon=gm[3], gemeente_code=gm[0], province_code=gm[1],
        end_date=BASE + dt.timedelta(days=days), min_group_size=g),
    st.integers(0, 10**6), st.integers(1, 30), st.sampled_from(GEMEENTEN), st.integers(0, 200), st.integers(1, 8),
), min_size=1, max_size=6, unique_by=lambda d: d.key)
open_plots_st = st.lists(st.builds(
    lambda i, free, gm, days, ready, utilities: Plot(
        key=f"p{i}", free_units=free, lat=gm[2] + 0.01, lon=gm[3], gemeente_code=gm[0], province_code=gm[1],
        available_from=BASE + dt.timedelta(days=days), bouwrijp=ready, utilities_complete=utilities),
    st.integers(0, 10**6), st.integers(1, 40), st.sampled_from(GEMEENTEN), st.integers(-100, 150), st.booleans(), st.booleans(),
), min_size=1, max_size=6, unique_by=lambda p: p.key)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_demands_st, open_plots_st)
def test_the_lower_bound_never_exceeds_the_exact_optimum(demands, plots):
    """The benchmark's "no plan can save more than" rests on this: the bounds are below the optimum's cost."""
    # these MIPs solve in milliseconds; the generous limit only keeps a loaded CI machine from cutting one short
    sol = solve(demands, plots, W, k=None, method="exact", time_limit_s=120.0)
    assert sol.stats["mip_status"] == "Optimal"
    supply = np.array([d.units for d in demands])
    capacity = np.array([p.free_units for p in plots])
    # the plan's own ladder points: above the ladder minimum when it climbed to keep a group together
    # (groups come before the ladder), so the bound is over the plans that climb no more than it did
    plan_ladder = float(np.dot(sol.arcs.priority, sol.flow))
    bound = lower_bound(len(demands), sol.arcs, supply, capacity, W, sol.housed, ladder_max=max(plan_ladder, sol.stats["ladder_minimum"]))
    assert bound is not None
    assert bound <= sol.cost.total + 1.0  # cost terms are rounded to cents
    assert sol.stats["mip_dual_bound"] <= sol.cost.total + 1.0
