"""Each cost term is defined once: the breakdown is a dot product per term, the total their EUR sum."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np

from services.matching.app.optimiser.costs import (
    EUR_PER_HOME, PER_HOME, PER_PLAN, TERMS, breakdown, complex_counts, eur_cost, paying_pieces, plan_counts,
)
from services.matching.app.optimiser.solver import solve
from services.matching.tests.optimiser.test_constraints import FAR, HOME, NEAR, W
from shared.events.models import CostBreakdown, ProposalCreated


def _plan():
    # 20 homes of groups of at least 8 over small plots (a split and a piece below the group) and an unready plot
    demand = dataclasses.replace(HOME, min_group_size=8)
    plots = [dataclasses.replace(NEAR, key="a", free_units=13, bouwrijp=False),
             dataclasses.replace(FAR, key="b", free_units=4, available_from=dt.date(2027, 9, 30)),
             dataclasses.replace(FAR, key="c", free_units=3, utilities_complete=False)]
    sol = solve([demand], plots, W)
    return sol, np.array([8])


def test_each_term_is_its_per_arc_array_dotted_with_the_flow():
    sol, groups = _plan()
    arcs, flow = sol.arcs, sol.flow
    cost = breakdown(arcs, flow, W, groups)
    for name in PER_HOME:
        assert getattr(cost, name) == round(float(np.dot(arcs.eur_per_home(name, W), flow)), 2), name
    counts = plan_counts(arcs.demand, flow, groups[arcs.demand])
    assert counts == {"split": 2, "min_group": 1}  # 13 + 4 + 3: two extra plots, 3 is the second piece below 8
    for name, term in PER_PLAN.items():
        assert getattr(cost, term.count_field) == counts[name]
        assert getattr(cost, name) == counts[name] * term.price(W)
    assert cost.readiness == 13 * W.site_prep_share * W.relocation_cost_eur_per_unit + 3 * W.connection_share * W.relocation_cost_eur_per_unit
    assert cost.storage_months > 0 and cost.transport_unit_km > 0


def test_the_total_is_the_sum_of_the_eur_terms_and_the_ladder_stays_out():
    sol, groups = _plan()
    cost = breakdown(sol.arcs, sol.flow, W, groups)
    eur_terms = [k for k, t in TERMS.items() if getattr(t, "eur", True)]
    assert "ladder" not in eur_terms
    assert cost.total == sum(getattr(cost, k) for k in eur_terms)
    assert abs(cost.total - eur_cost(sol.arcs, sol.flow, groups, W)) < 0.05  # the objective, unrounded


def test_the_arc_cost_is_the_sum_of_the_per_home_eur_terms():
    sol, _ = _plan()
    total = sum(sol.arcs.eur_per_home(k, W) for k in EUR_PER_HOME)
    assert np.array_equal(sol.arcs.cost, total)


def test_one_complex_pays_for_the_same_pieces_as_the_plan():
    x, g, demand = np.array([13, 4, 3, 0]), 8, np.zeros(4, dtype=np.int64)
    assert complex_counts(x, g) == list(plan_counts(demand, x, np.full(4, g)).values()) == [2, 1]
    # the charged pieces: every plot but the largest; every small piece but the remainder (the larger, 4)
    assert paying_pieces("split", demand, x, np.full(4, g)).tolist() == [1, 2]
    assert paying_pieces("min_group", demand, x, np.full(4, g)).tolist() == [2]


def test_every_term_has_its_field_in_the_one_breakdown_type():
    fields = set(CostBreakdown.model_fields)
    for name, term in TERMS.items():
        assert name in fields
        assert {getattr(term, "quantity_field", None), getattr(term, "count_field", None)} - {None} <= fields


def test_the_event_keeps_preference_on_the_wire_and_the_api_says_ladder():
    cost = CostBreakdown(transport_unit_km=1.0, transport=4.0, splits=0, split=0.0, storage_months=0.0, storage=0.0,
                         readiness=0.0, ladder=200_000.0, total=4.0)
    wire = cost.model_dump(mode="json")  # what the outbox writes
    assert wire["preference"] == 200_000.0 and "ladder" not in wire
    assert CostBreakdown.model_validate(wire).ladder == 200_000.0  # what a consumer reads
    api = cost.model_dump(by_alias=False)  # the proposal's stored cost, served by the API
    assert api["ladder"] == 200_000.0 and "preference" not in api
    assert "preference" in ProposalCreated.model_json_schema()["$defs"]["CostBreakdown"]["properties"]


def test_soft_site_factors_cost_a_small_sum_per_home_per_factor():
    """geluid / water_risk keep a plot usable; each costs site_factor_eur_per_unit a home and tips equal plots."""
    noisy = dataclasses.replace(NEAR, key="noisy", site_factors=frozenset({"geluid", "water_risk"}))
    quiet = dataclasses.replace(noisy, key="quiet", site_factors=frozenset())
    sol = solve([HOME], [noisy, quiet], W)
    assert [(a.plot, a.units) for a in sol.allocations] == [(1, 20)]  # same place, the quiet one wins
    only_noisy = solve([HOME], [noisy], W)
    cost = breakdown(only_noisy.arcs, only_noisy.flow, W)
    assert cost.site_factors == 20 * 2 * W.site_factor_eur_per_unit
    assert cost.total == round(cost.transport + cost.split + cost.storage + cost.readiness + cost.site_factors + cost.min_group, 2)
    # small: the soft factors of a home stay far below one rung of the ladder and below site preparation
    assert 2 * W.site_factor_eur_per_unit < W.site_prep_share * W.relocation_cost_eur_per_unit < W.ladder_step_per_unit
