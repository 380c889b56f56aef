"""The national search's moves: ejection chains never lose a home, a group or a rung, and find the moves they exist for."""

from __future__ import annotations

import time

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from services.matching.app.optimiser import solver as S
from services.matching.app.optimiser.solver import Arcs, Weights
from services.matching.tests.optimiser.test_properties import open_demands_st, open_plots_st

W = Weights()


def arcs_of(pairs: list[tuple[int, int, int, float, float]]) -> Arcs:
    """Arcs from (complex, plot, capacity, EUR per home, ladder points per home)."""
    d, p, cap, cost, prio = (np.array(x) for x in zip(*pairs))
    A = len(d)
    return Arcs(d.astype(np.int64), p.astype(np.int64), cap.astype(np.int64), cost.astype(float), prio.astype(float),
                np.zeros(A, dtype=np.int64), np.zeros(A), {})


def test_a_small_piece_goes_when_a_complex_with_homes_left_takes_its_places():
    # complex 0 (11 homes, groups of 10) is split 8 + 3 over two full plots: one piece too small.
    # Complex 2 has homes left unhoused and could use plot 1: it takes those 3 places, complex 0
    # keeps its 8 (its one remainder) and as many homes are housed as before.
    arcs = arcs_of([(0, 0, 10, 100.0, 0.0), (0, 1, 3, 100.0, 0.0), (1, 0, 2, 100.0, 0.0), (2, 1, 3, 100.0, 0.0)])
    supply, capacity, groups = np.array([11, 2, 3]), np.array([10, 3]), np.array([10, 1, 1])
    start = np.array([8, 3, 2, 0])
    assert S.small_pieces(arcs, start, groups) == 1
    flow, stats = S.ejection_chains(arcs, start, supply, capacity, groups, W, time.perf_counter() + 5.0)
    assert S.small_pieces(arcs, flow, groups) == 0
    assert flow.sum() == start.sum()
    assert stats["chains_min_group_improved"] == 1


def test_a_split_merges_when_another_complex_moves_to_a_plot_of_its_own():
    # complex 0 (10 homes) is split 6 + 4 because complex 1 holds 4 places of plot 0; complex 1
    # can go to plot 2 at a little more per home: the chain moves it and complex 0 is whole (no split cost)
    arcs = arcs_of([(0, 0, 10, 100.0, 0.0), (0, 1, 10, 100.0, 0.0), (1, 0, 4, 100.0, 0.0), (1, 2, 4, 150.0, 0.0)])
    supply, capacity, groups = np.array([10, 4]), np.array([10, 4, 4]), np.array([1, 1])
    start = np.array([6, 4, 4, 0])
    flow, _ = S.ejection_chains(arcs, start, supply, capacity, groups, W, time.perf_counter() + 5.0, "split")
    assert flow.tolist() == [10, 0, 0, 4]
    assert S.eur_cost(arcs, flow, groups, W) == S.eur_cost(arcs, start, groups, W) - W.split_fixed_eur + 4 * 50.0


def test_a_chain_that_would_climb_the_ladder_is_refused_on_the_ladder_face():
    # the same split, but complex 1's other plot is a rung up: at the ladder minimum the split stays
    arcs = arcs_of([(0, 0, 10, 100.0, 0.0), (0, 1, 10, 100.0, 0.0), (1, 0, 4, 100.0, 0.0), (1, 2, 4, 150.0, 1.0)])
    supply, capacity, groups = np.array([10, 4]), np.array([10, 4, 4]), np.array([1, 1])
    start = np.array([6, 4, 4, 0])
    flow, _ = S.ejection_chains(arcs, start, supply, capacity, groups, W, time.perf_counter() + 5.0, "split",
                                keep_ladder=True)
    assert flow.tolist() == start.tolist()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_demands_st, open_plots_st, st.sampled_from([S.CHAIN_REGION_ARCS, 0, 8]))
def test_ejection_chains_never_lose_a_home_a_group_or_a_rung(demands, plots, region_arcs):
    """Over the whole plan and (a large plan's way) over the region around each piece only."""
    defaults = S.CHAIN_REGION_ARCS, S.SPLIT_REGION_ARCS
    S.CHAIN_REGION_ARCS = S.SPLIT_REGION_ARCS = region_arcs
    try:
        check_chains(demands, plots)
    finally:
        S.CHAIN_REGION_ARCS, S.SPLIT_REGION_ARCS = defaults


def check_chains(demands, plots) -> None:
    arcs = S.build_arcs(demands, plots, W, k=None)
    supply = np.array([d.units for d in demands])
    capacity = np.array([p.free_units for p in plots])
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), np.maximum(supply, 1))
    start = S.min_cost_max_flow(len(demands), len(plots), arcs, supply, capacity, arcs.priority + arcs.cost)
    for target in ("min_group", "split"):
        for keep_ladder in (False, True):
            flow, _ = S.ejection_chains(arcs, start, supply, capacity, groups, W, time.perf_counter() + 2.0, target,
                                        keep_ladder)
            assert S.objective(arcs, flow, groups, W) <= S.objective(arcs, start, groups, W)
            assert flow.sum() == start.sum()
            assert (flow >= 0).all() and (flow <= arcs.cap).all()
            assert (np.bincount(arcs.plot, weights=flow, minlength=len(plots)) <= capacity).all()
            assert (np.bincount(arcs.demand, weights=flow, minlength=len(demands)) <= supply).all()
            if keep_ladder:
                assert np.dot(arcs.priority, flow) <= np.dot(arcs.priority, start) + 1e-6



def test_the_neighbourhood_search_merges_a_split_worth_a_fraction_of_its_first_gap():
    # the split above at a million EUR a home: merging it saves a fraction of a per cent of the
    # neighbourhood's EUR, within the gap the search starts at; it is found all the same
    arcs = arcs_of([(0, 0, 10, 1e6, 0.0), (0, 1, 10, 1e6, 0.0), (1, 0, 4, 1e6, 0.0), (1, 2, 4, 1e6 + 50.0, 0.0)])
    supply, capacity, groups = np.array([10, 4]), np.array([10, 4, 4]), np.array([1, 1])
    start = np.array([6, 4, 4, 0])
    assert W.split_fixed_eur < S.LNS_EUR_GAP * S.eur_cost(arcs, start, groups, W)
    flow, stats = S.consolidation_search(arcs, start, supply, capacity, groups, W, 10.0)
    assert flow.tolist() == [10, 0, 0, 4]
    assert stats["lns_improved"] == 1


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(open_demands_st, open_plots_st)
def test_the_neighbourhood_search_never_loses_a_home_a_group_or_a_rung(demands, plots):
    arcs = S.build_arcs(demands, plots, W, k=None)
    supply = np.array([d.units for d in demands])
    capacity = np.array([p.free_units for p in plots])
    groups = np.minimum(np.array([max(1, d.min_group_size) for d in demands]), np.maximum(supply, 1))
    start = S.min_cost_max_flow(len(demands), len(plots), arcs, supply, capacity, arcs.priority + arcs.cost)
    flow, _ = S.consolidation_search(arcs, start, supply, capacity, groups, W, 0.5)
    assert S.objective(arcs, flow, groups, W) <= S.objective(arcs, start, groups, W)
    assert flow.sum() == start.sum()
    assert (np.bincount(arcs.plot, weights=flow, minlength=len(plots)) <= capacity).all()
    assert (np.bincount(arcs.demand, weights=flow, minlength=len(demands)) <= supply).all()
