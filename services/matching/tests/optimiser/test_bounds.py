"""The bounds the benchmark's gap rests on: below every plan's cost, and each complex's own problem solved exactly."""

from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.app.optimiser.bounds import ComplexPatterns, lagrangian_bound, ladder_face
from services.matching.app.optimiser.solver import Arcs, Weights, lower_bound, solve
from services.matching.tests.optimiser.test_properties import open_demands_st, open_plots_st

W = dataclasses.replace(Weights(), min_group_before_ladder=False)  # the EUR optimum at the ladder minimum


def test_each_complex_gets_its_cheapest_split_pattern():
    rng = np.random.default_rng(1)
    f = 7.0
    for _ in range(200):
        n = 3
        supply = rng.integers(1, 8, n)
        A = int(rng.integers(1, 9))
        demand = np.sort(rng.integers(0, n, A))
        cap = np.minimum(rng.integers(1, 8, A), supply[demand])
        arcs = Arcs(demand, np.arange(A), cap, np.zeros(A), np.zeros(A), np.zeros(A), np.zeros(A), {})
        full = rng.random(A) < 0.2
        for i in range(n):  # the arcs every plan fills must fit the complex
            idx = np.nonzero(full & (demand == i))[0]
            while cap[idx].sum() > supply[i]:
                full[idx[0]], idx = False, idx[1:]
        exact = rng.random(n) < 0.5
        r = rng.normal(0, 5, A)
        values, x = ComplexPatterns(arcs, supply, ~full, full, exact).solve(r, f)
        for i in range(n):
            idx = np.nonzero(demand == i)[0]
            best = np.inf
            for xs in itertools.product(*[[cap[a]] if full[a] else range(cap[a] + 1) for a in idx]):
                if sum(xs) > supply[i] or (exact[i] and sum(xs) != supply[i]):
                    continue
                best = min(best, sum(r[a] * v for a, v in zip(idx, xs)) + f * max(0, sum(v > 0 for v in xs) - 1))
            assert values[i] == best or np.isclose(values[i], best)
            if np.isfinite(best):  # and the pattern returned is one that costs that
                got = x[idx]
                assert np.isclose(sum(r[idx] * got) + f * max(0, int((got > 0).sum()) - 1), best)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_demands_st, open_plots_st)
def test_the_lagrangian_bound_never_exceeds_the_exact_optimum(demands, plots):
    sol = solve(demands, plots, W, k=None, method="exact", time_limit_s=120.0)
    assert sol.stats["mip_status"] == "Optimal"
    supply = np.array([d.units for d in demands])
    capacity = np.array([p.free_units for p in plots])
    n = len(demands)
    face = ladder_face(n, sol.arcs, supply, capacity, sol.housed)
    on = face.free | face.full
    assert not sol.flow[~on].any()  # the optimum houses the maximum at the ladder minimum: on the face
    assert (sol.flow[face.full] == sol.arcs.cap[face.full]).all()
    result = lagrangian_bound(n, sol.arcs, supply, capacity, W, sol.housed, sol.cost.ladder, upper=sol.cost.total,
                              time_limit_s=30.0, max_rounds=60)
    assert result["ladder_face"]
    lp = lower_bound(n, sol.arcs, supply, capacity, W, sol.housed, ladder_max=sol.stats["ladder_minimum"])
    assert lp - 1.0 <= result["bound"] <= sol.cost.total + 1.0  # cost terms are rounded to cents


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_demands_st, open_plots_st)
def test_the_search_on_the_ladder_face_never_loses_a_home_a_group_or_a_rung(demands, plots):
    """The national search (many arcs) starts on the ladder face: lexicographically never worse than its start."""
    import time

    from services.matching.app.optimiser import solver as S

    w = Weights()
    arcs = S.build_arcs(demands, plots, w, k=None)
    supply = np.array([d.units for d in demands])
    capacity = np.array([p.free_units for p in plots])
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), supply)
    start = S.min_cost_max_flow(len(demands), len(plots), arcs, supply, capacity, arcs.priority / S.COST_SCALE)
    flow, stats = S.face_search(len(demands), arcs, start, supply, capacity, groups, w, time.perf_counter() + 1.0)
    assert S.objective(arcs, flow, groups, w) <= S.objective(arcs, start, groups, w)
    assert flow.sum() == start.sum()
    assert (np.bincount(arcs.plot, weights=flow, minlength=len(plots)) <= capacity).all()
    assert (np.bincount(arcs.demand, weights=flow, minlength=len(demands)) <= supply).all()
    assert stats["face_arcs"] is not None  # the ladder-minimum start is on the face
