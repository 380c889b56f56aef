"""Groups kept together: the fewest pieces below a complex's minimum group size ranks above the ladder."""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.app.optimiser import costs
from services.matching.app.optimiser.pairs import Columns
from services.matching.app.optimiser.rules import feasible_block
from services.matching.app.optimiser.solver import Demand, Plot, arcs_for, solve, verify
from services.matching.tests.optimiser.test_constraints import HOME, NEAR, W
from shared.domain import LadderRung

GROUPED = dataclasses.replace(HOME, min_group_size=10)  # 20 homes, groups of at least 10
# three plots in the complex's own gemeente that together take it (12 + 4 + 4), one regio plot that takes all
A = dataclasses.replace(NEAR, key="a", free_units=12)
B = dataclasses.replace(NEAR, key="b", free_units=4, lat=52.2160)
C = dataclasses.replace(NEAR, key="c", free_units=4, lat=52.2170)
REGIO = dataclasses.replace(NEAR, key="regio", free_units=20, gemeente_code="GM0232", lat=52.2500)


def plan(w) -> dict[str, int]:
    plots = [A, B, C, REGIO]
    sol = solve([GROUPED], plots, w)
    assert verify([GROUPED], plots, sol.allocations, w) == []
    return {plots[a.plot].key: a.units for a in sol.allocations}


def test_no_piece_below_the_minimum_group_where_a_plan_without_one_houses_as_many():
    # the gemeente rung alone would leave two pieces of 4 (one allowed remainder, one too many)
    assert plan(W) == {"a": 12, "regio": 8}  # one rung up for 8 homes, the 8 the one remainder


def test_without_the_priority_the_ladder_wins_and_the_small_piece_pays_its_penalty():
    assert plan(dataclasses.replace(W, min_group_before_ladder=False)) == {"a": 12, "b": 4, "c": 4}


def test_the_ladder_still_decides_when_groups_are_kept_either_way():
    whole = dataclasses.replace(NEAR, key="whole", free_units=20, lat=52.2180)
    sol = solve([GROUPED], [A, REGIO, whole], W)
    assert [(a.plot, a.units, a.rung) for a in sol.allocations] == [(2, 20, LadderRung.gemeente)]


# ---------------------------------------------------------------- against every plan (tiny instances)

GEMEENTEN = [("GM0200", "PV25", 52.21, 5.97), ("GM0232", "PV25", 52.35, 5.98), ("GM0344", "PV26", 52.09, 5.12)]
BASE = dt.date(2027, 1, 1)


def lexicographic_optimum(demands: list[Demand], plots: list[Plot], w) -> tuple[int, int, float]:
    """(homes housed, small pieces, ladder points) of the best plan, by trying every plan."""
    cols = Columns(demands, plots, w)
    ok = feasible_block(cols, np.arange(len(demands)), w)
    options = []
    for i, d in enumerate(demands):
        ranges = [range(0, min(d.units, p.free_units) + 1) if ok[i, j] else range(1) for j, p in enumerate(plots)]
        options.append([x for x in itertools.product(*ranges) if sum(x) <= d.units])
    di, pj = np.nonzero(np.ones((len(demands), len(plots)), dtype=bool))
    arcs = arcs_for(cols, w, di.astype(np.int64), pj.astype(np.int64))
    groups = np.array([max(1, min(d.min_group_size, d.units)) for d in demands])
    best = None
    for combo in itertools.product(*options):
        x = np.array(combo, dtype=np.int64)
        if (x.sum(axis=0) > [p.free_units for p in plots]).any():
            continue
        flow = x.reshape(-1)
        key = (-int(flow.sum()), len(costs.min_group_violations(arcs, flow, groups)), float(np.dot(arcs.priority, flow)))
        best = key if best is None or key < best else best
    return -best[0], best[1], best[2]


tiny_demands = st.lists(st.builds(
    lambda i, units, gm, g: Demand(key=f"d{i}", units=units, lat=gm[2], lon=gm[3], gemeente_code=gm[0],
                                   province_code=gm[1], end_date=BASE, min_group_size=g),
    st.integers(0, 10**6), st.integers(1, 7), st.sampled_from(GEMEENTEN), st.integers(1, 5),
), min_size=1, max_size=2, unique_by=lambda d: d.key)
tiny_plots = st.lists(st.builds(
    lambda i, free, gm: Plot(key=f"p{i}", free_units=free, lat=gm[2] + 0.01, lon=gm[3], gemeente_code=gm[0],
                             province_code=gm[1], available_from=BASE),
    st.integers(0, 10**6), st.integers(1, 5), st.sampled_from(GEMEENTEN),
), min_size=1, max_size=3, unique_by=lambda p: p.key)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(tiny_demands, tiny_plots)
def test_housed_then_small_pieces_then_ladder_match_the_best_of_every_plan(demands, plots):
    sol = solve(demands, plots, W, k=None, method="exact", time_limit_s=60.0)
    housed, small, ladder = lexicographic_optimum(demands, plots, W)
    assert (sol.housed, sol.cost.min_group_violations, sol.cost.ladder) == (housed, small, ladder)
    assert sol.stats["min_group_fewest"] == small  # the exact count is reported as such
