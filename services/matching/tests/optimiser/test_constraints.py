"""Each hard constraint: without it the optimiser would put the homes on the cheaper, wrong plot."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pytest

from services.matching.app.optimiser.pairs import Columns
from services.matching.app.optimiser.rules import RULES, feasible_block, pair_violations, violation_blocks
from services.matching.app.optimiser.solver import Demand, Plot, Weights, solve, verify
from shared.domain import BblLevel, Doelgroep, LadderRung, PermitInstrument, SiteKind

W = Weights()
END = dt.date(2027, 6, 30)
# Apeldoorn (GM0200) with one plot next door (the tempting one) and one 12 km away (the right one).
HOME = Demand(key="d", units=20, lat=52.2112, lon=5.9699, gemeente_code="GM0200", province_code="PV25", end_date=END)
NEAR = Plot(key="near", free_units=40, lat=52.2150, lon=5.9700, gemeente_code="GM0200", province_code="PV25",
            available_from=dt.date(2027, 1, 1))
FAR = dataclasses.replace(NEAR, key="far", lat=52.3150, lon=5.9700)


def placed(demand: Demand, near: Plot, far: Plot = FAR, w: Weights = W) -> dict[str, int]:
    sol = solve([demand], [near, far], w)
    assert verify([demand], [near, far], sol.allocations, w) == []
    return {[near, far][a.plot].key: a.units for a in sol.allocations}


def test_without_a_breach_the_near_plot_wins():
    assert placed(HOME, NEAR) == {"near": 20}


# One case per hard rule of rules.RULES: (demand, the tempting near plot, the rule it breaks).
CASES = [
    (HOME, dataclasses.replace(NEAR, free_units=0), "capacity"),
    (HOME, dataclasses.replace(NEAR, available_from=dt.date(2028, 3, 1)), "time_window_start"),
    (HOME, dataclasses.replace(NEAR, available_until=dt.date(2030, 1, 1)), "time_window_term"),
    (dataclasses.replace(HOME, bbl_level=BblLevel.tijdelijk),
     dataclasses.replace(NEAR, allows_tijdelijk_bbl=False, allows_permanent=True, expected_instrument=PermitInstrument.permanent),
     "bbl_level"),
    (dataclasses.replace(HOME, composition_changed=True),
     dataclasses.replace(NEAR, allows_tijdelijk_bbl=False, allows_permanent=True, expected_instrument=PermitInstrument.permanent),
     "bbl_composition_changed"),
    (dataclasses.replace(HOME, layers=3), dataclasses.replace(NEAR, max_layers=2), "stacking"),
    (dataclasses.replace(HOME, doelgroepen=frozenset({Doelgroep.starters, Doelgroep.statushouders})),
     dataclasses.replace(NEAR, doelgroep_restrictions=frozenset({Doelgroep.starters})), "doelgroep"),
    (dataclasses.replace(HOME, social_rent=True, doelgroepen=frozenset()),
     dataclasses.replace(NEAR, doelgroep_restrictions=frozenset({Doelgroep.expats})), "social_rent_lock_in"),
    (HOME, dataclasses.replace(NEAR, social_rent_only=True), "social_rent_only_plot"),
    (dataclasses.replace(HOME, social_rent=True), dataclasses.replace(NEAR, allows_social_rent=False),
     "plot_refuses_social_rent"),
    (HOME, dataclasses.replace(NEAR, exclusions=frozenset({"natura2000"})), "exclusion_flag"),
    (dataclasses.replace(HOME, excluded_plots=frozenset({"near"})), NEAR, "declined_before"),
]


@pytest.mark.parametrize(("demand", "near", "rule"), CASES)
def test_a_breached_hard_constraint_sends_the_homes_elsewhere(demand, near, rule):
    assert rule in pair_violations(demand, near, W)
    assert placed(demand, near, FAR, W) == {"far": 20}, rule


def _open_for(years: int, instrument: PermitInstrument) -> Plot:
    """The near plot, open from the placement's end for `years` under `instrument`."""
    return dataclasses.replace(NEAR, available_from=END, available_until=END.replace(year=END.year + years), expected_instrument=instrument)


def test_the_follow_up_term_is_capped_by_the_plots_permit_regime():
    """A 10-year minimum: a 5-year Wro plot needs only its 5 years; a 7-year omgevingsplan plot (no statutory
    maximum) falls short of the full 10 (DOMAIN.md §3)."""
    assert W.min_follow_up_years == 10
    wro = _open_for(5, PermitInstrument.wro_voorlopig)
    assert pair_violations(HOME, wro, W) == []
    assert placed(HOME, wro) == {"near": 20}
    plan = _open_for(7, PermitInstrument.ow_plan_tijdelijk)
    assert pair_violations(HOME, plan, W) == ["time_window_term"]
    assert placed(HOME, plan) == {"far": 20}
    # the cap is the regime's maximum, not a discount: a Wro plot open for only 4 years is still too short
    assert pair_violations(HOME, _open_for(4, PermitInstrument.wro_voorlopig), W) == ["time_window_term"]
    # and the Bor art. 4-11 regime caps at 10: a 9-year plot falls short of min(12, 10)
    longer = dataclasses.replace(W, min_follow_up_years=12.0)
    assert pair_violations(HOME, _open_for(9, PermitInstrument.wabo_bor4_11), longer) == ["time_window_term"]
    assert pair_violations(HOME, _open_for(10, PermitInstrument.wabo_bor4_11), longer) == []


def test_military_land_is_a_hard_exclusion_and_noise_only_a_cost():
    assert placed(HOME, dataclasses.replace(NEAR, exclusions=frozenset({"military"}))) == {"far": 20}
    # a soft site factor is no breach: it costs EUR 1.5k a home, less than a plot that is not bouwrijp
    noisy = dataclasses.replace(NEAR, site_factors=frozenset({"geluid", "water_risk"}))
    assert pair_violations(HOME, noisy, W) == []
    assert placed(HOME, noisy, dataclasses.replace(FAR, bouwrijp=False)) == {"near": 20}
    assert placed(HOME, noisy) == {"far": 20}  # between equally ready plots the quiet one wins


def test_every_hard_rule_has_a_case():
    assert sorted(rule for _, _, rule in CASES) == sorted(RULES)


@pytest.mark.parametrize("min_years", [10.0, 6.0])
def test_the_scalar_check_the_explanation_and_the_feasibility_agree(min_years):
    """All three come from the one registry: check them against each other on every case's demand x plot."""
    w = dataclasses.replace(W, min_follow_up_years=min_years)
    demands = [d for d, _, _ in CASES]
    plots = [p for _, p, _ in CASES] + [FAR, _open_for(5, PermitInstrument.wro_voorlopig), _open_for(7, PermitInstrument.ow_plan_tijdelijk)]
    cols = Columns(demands, plots, w)
    rows = np.arange(len(demands))
    blocks, feasible = violation_blocks(cols, rows, w), feasible_block(cols, rows, w)
    for i, d in enumerate(demands):
        for j, p in enumerate(plots):
            broken = pair_violations(d, p, w)
            assert broken == [name for name, block in blocks.items() if block[i, j]]
            assert feasible[i, j] == (not broken)


def test_nieuwbouw_homes_in_unchanged_composition_may_go_to_a_permanent_plot():
    permanent = dataclasses.replace(NEAR, allows_tijdelijk_bbl=False, allows_permanent=True, expected_instrument=PermitInstrument.permanent)
    assert placed(HOME, permanent) == {"near": 20}


def test_capacity_splits_the_homes_and_never_overbooks():
    small = dataclasses.replace(NEAR, free_units=12)
    far = dataclasses.replace(FAR, free_units=8)
    assert placed(HOME, small, far) == {"near": 12, "far": 8}


def test_min_group_size_avoids_small_pieces_when_it_can():
    # 20 homes, groups of at least 8: 4+4+12 would be cheapest by distance, but two pieces are below 8
    demand = dataclasses.replace(HOME, min_group_size=8)
    plots = [dataclasses.replace(NEAR, key=f"p{i}", free_units=4, lat=52.2112 + 0.001 * i) for i in range(3)]
    plots.append(dataclasses.replace(FAR, free_units=20))
    w = dataclasses.replace(W, split_fixed_eur=1_000.0)  # cheap splits: only the min-group penalty stops 4+4+12
    sol = solve([demand], plots, w)
    assert verify([demand], plots, sol.allocations, w) == []
    pieces = sorted(a.units for a in sol.allocations)
    assert sum(pieces) == 20 and sum(1 for u in pieces if u < 8) <= 1
    assert sol.cost.min_group_violations == 0
    assert solve([demand], plots, w, method="mcf").cost.min_group_violations >= 1  # blind to it, it would


def test_min_group_size_never_leaves_homes_unhoused():
    # only small plots exist: every home is still housed, the pieces below the minimum are penalised
    demand = dataclasses.replace(HOME, min_group_size=8)
    plots = [dataclasses.replace(NEAR, key=f"p{i}", free_units=4, lat=52.2112 + 0.001 * i) for i in range(5)]
    sol = solve([demand], plots, W)
    assert sol.housed == sol.max_flow == 20
    assert sol.cost.min_group_violations == 4 and sol.cost.min_group == 4 * W.min_group_penalty_eur


def test_split_cost_prefers_one_plot_over_two_nearer_pieces():
    a = dataclasses.replace(NEAR, key="a", free_units=10)
    b = dataclasses.replace(NEAR, key="b", free_units=10, lat=52.2160)
    whole = dataclasses.replace(FAR, key="whole", free_units=20, lat=52.2400)
    sol = solve([HOME], [a, b, whole], W)
    assert {[a, b, whole][x.plot].key: x.units for x in sol.allocations} == {"whole": 20}


def test_ladder_same_gemeente_before_a_nearer_plot_across_the_border():
    # Apeldoorn home; a plot in Apeldoorn 9 km away and one in Epe (GM0232) 4 km away
    own = dataclasses.replace(NEAR, key="own", lat=52.2112 - 0.081)
    across = dataclasses.replace(NEAR, key="across", gemeente_code="GM0232", lat=52.2112 + 0.036)
    sol = solve([HOME], [across, own], W)
    assert [([across, own][a.plot].key, a.rung) for a in sol.allocations] == [("own", LadderRung.gemeente)]


def test_ladder_a_feasible_gemeente_plot_wins_over_a_much_cheaper_regio_plot():
    # the own-gemeente plot is 9 km away, not bouwrijp and without utilities (+EUR 19.5k per home);
    # the regio plot across the border is 4 km away and ready: the ladder still puts the homes at home
    own = dataclasses.replace(NEAR, key="own", lat=52.2112 - 0.081, bouwrijp=False, utilities_complete=False)
    across = dataclasses.replace(NEAR, key="across", gemeente_code="GM0232", lat=52.2112 + 0.036)
    sol = solve([HOME], [across, own], W)
    assert [([across, own][a.plot].key, a.rung) for a in sol.allocations] == [("own", LadderRung.gemeente)]
    assert sol.cost.readiness == 20 * 0.65 * W.relocation_cost_eur_per_unit
    assert sol.cost.total == pytest.approx(sol.cost.transport + sol.cost.readiness)  # EUR only, no ladder points
    # competition: two complexes, one gemeente plot; the one that has no other gemeente plot gets it
    other = dataclasses.replace(HOME, key="other", gemeente_code="GM0232", lat=52.2112 + 0.05)
    sol = solve([HOME, other], [dataclasses.replace(own, free_units=20), dataclasses.replace(across, free_units=20)], W)
    assert sorted((a.demand, a.rung) for a in sol.allocations) == [(0, LadderRung.gemeente), (1, LadderRung.gemeente)]


def test_ladder_region_before_province_before_national():
    region = dataclasses.replace(NEAR, key="region", gemeente_code="GM0232", lat=52.2112 + 0.2)  # ~22 km, Gelderland
    province = dataclasses.replace(NEAR, key="province", gemeente_code="GM0202", lat=51.98, lon=5.91)  # Arnhem ~26 km
    national = dataclasses.replace(NEAR, key="national", gemeente_code="GM0344", province_code="PV26", lat=52.09, lon=5.12)
    plots = [national, province, region]
    sol = solve([HOME], plots, W)
    assert [plots[a.plot].key for a in sol.allocations] == ["region"]
    sol = solve([HOME], [national, dataclasses.replace(province, lat=51.84, lon=5.86)], W)  # Nijmegen, ~42 km
    assert [a.rung for a in sol.allocations] == [LadderRung.provincie]


def test_garantiekavel_only_as_backstop_unless_overridden():
    garantie = dataclasses.replace(NEAR, key="garantie", kind=SiteKind.garantiekavel, free_units=50)
    far_regular = dataclasses.replace(FAR, key="regular", gemeente_code="GM0344", province_code="PV26", lat=52.09, lon=5.12)
    sol = solve([HOME], [garantie, far_regular], W)
    assert [[garantie, far_regular][a.plot].key for a in sol.allocations] == ["regular"]
    # no other plot: the garantiekavel takes the homes
    sol = solve([HOME], [garantie, dataclasses.replace(far_regular, free_units=5)], W)
    assert {[garantie, far_regular][a.plot].key: a.units for a in sol.allocations} == {"regular": 5, "garantie": 15}
    # the marktmeester's override treats it as an ordinary (nearby) plot
    w = dataclasses.replace(W, allow_garantiekavel_override=True)
    sol = solve([HOME], [garantie, far_regular], w)
    assert [[garantie, far_regular][a.plot].key for a in sol.allocations] == ["garantie"]


def test_no_feasible_plot_is_shortfall():
    sol = solve([dataclasses.replace(HOME, layers=4)], [dataclasses.replace(NEAR, max_layers=2)], W)
    assert sol.housed == 0 and sol.unassigned == 20


def test_no_plot_at_all_is_shortfall_too():
    # the read model may hold no published plot: the column arrays keep their types when empty
    sol = solve([HOME], [], W)
    assert sol.housed == 0 and sol.unassigned == HOME.units
