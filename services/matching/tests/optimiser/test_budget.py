"""The solver's budget: no search when the min-cost flow is already optimal; a backlog slice's budget counts
only the demands with a feasible arc."""

from __future__ import annotations

import dataclasses
import random

import numpy as np
import pytest

from services.matching.app.optimiser.solver import objective, solve, verify
from services.matching.tests.optimiser.test_constraints import HOME, NEAR, W


def instance(seed: int, demands: int, plots: int, units: tuple[int, int], capacity: tuple[int, int]):
    rng = random.Random(seed)
    ds = [dataclasses.replace(HOME, key=f"d{i}", units=rng.randint(*units), min_group_size=rng.choice([1, 5, 10]),
                              lat=HOME.lat + rng.uniform(-0.05, 0.05), lon=HOME.lon + rng.uniform(-0.05, 0.05))
          for i in range(demands)]
    ps = [dataclasses.replace(NEAR, key=f"p{j}", free_units=rng.randint(*capacity),
                              lat=NEAR.lat + rng.uniform(-0.05, 0.05), lon=NEAR.lon + rng.uniform(-0.05, 0.05))
          for j in range(plots)]
    return ds, ps


def close(a: tuple, b: tuple) -> bool:
    """The same lexicographic objective, the EUR cost up to the flow's rounding (tenths of a euro per home)."""
    return a[:3] == b[:3] and abs(a[3] - b[3]) <= 0.05 * -a[0] + 1e-6


@pytest.mark.parametrize("seed", range(12))
def test_a_plan_needing_no_search_is_as_good_as_the_exact_optimum(seed):
    # plots roomier than the complexes: mostly one plot each, so the early stop fires on some seeds
    ds, ps = instance(seed, 6, 8, (5, 25), (20, 60))
    fast = solve(ds, ps, W, time_limit_s=5.0)
    exact = solve(ds, ps, W, method="exact", time_limit_s=5.0)
    assert verify(ds, ps, fast.allocations, W) == []
    assert close(objective(fast.arcs, fast.flow, _groups(ds), W), objective(exact.arcs, exact.flow, _groups(ds), W))


def test_the_early_stop_fires_only_without_splits_or_small_pieces():
    fired = split = 0
    for seed in range(30):
        ds, ps = instance(seed, 6, 8, (5, 25), (5, 60))
        sol = solve(ds, ps, W, time_limit_s=5.0)
        pieces = np.bincount([a.demand for a in sol.allocations], minlength=len(ds))
        if sol.stats["method"].startswith("mcf (optimal"):
            fired += 1
            assert pieces.max() <= 1 and sol.stats["min_group_pieces"] == 0
        elif pieces.max() > 1:
            split += 1
    assert fired and split  # both kinds of instance occur: the test exercises both branches


def test_the_budget_counts_only_demands_a_search_can_improve():
    ds, ps = instance(1, 10, 4, (5, 10), (5, 8))  # more homes than room: pieces, a search is due
    unreachable = frozenset(p.key for p in ps)
    blocked = [dataclasses.replace(d, excluded_plots=unreachable) for d in ds[1:]]
    one = solve([ds[0], *blocked], ps, W, time_limit_s=2.0, per_demand_s=0.01, floor_s=0.05)
    assert one.stats["searchable_demands"] <= 1  # the others have no feasible arc
    assert one.stats["time_limit_s"] == pytest.approx(0.05)  # the floor
    for seed in range(4):  # split at the start (the exact MIP may join the pieces): only those count
        ds, ps = instance(seed, 10, 6, (5, 15), (5, 12))
        ten = solve(ds, ps, W, time_limit_s=2.0, per_demand_s=0.01, floor_s=0.0)
        assert 1 <= ten.stats["searchable_demands"] <= 3 < len(ds)
        assert ten.stats["time_limit_s"] == pytest.approx(0.01 * ten.stats["searchable_demands"])
    capped = solve(ds, ps, W, time_limit_s=0.001, per_demand_s=0.01, floor_s=0.0)
    assert capped.stats["time_limit_s"] == pytest.approx(0.001)


def _groups(ds):
    supply = np.array([d.units for d in ds])
    return np.minimum(np.array([max(1, d.min_group_size) for d in ds]), np.maximum(supply, 1))
