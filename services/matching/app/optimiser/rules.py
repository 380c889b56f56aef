"""The hard rules of a demand -> plot pair, each written once.

A rule is a vectorised function of the demand side `d` and the plot side `p` (see `pairs.py`)
that is True where the pair BREAKS it. From the one registry come:
- `pair_violations`: the scalar check (one pair, the rules it breaks, in registry order),
- `violation_blocks`: per rule, the (demands x plots) breach matrix (the explanation),
- `feasible_block`: the vectorised feasibility the arcs are built from (no rule broken),
- `pair_breaches`: per rule, the breaches of aligned pairs (checking a whole plan).

Adding a rule: one `@hard_rule` function here (plus any derived column it reads, registered
with `@demand_column` / `@plot_column` beside it) and a case in tests/optimiser/test_constraints.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

import numpy as np

from services.matching.app.optimiser.inputs import Demand, Plot, Weights
from services.matching.app.optimiser.pairs import Columns, Side, contains, demand_column, plot_column
from shared.domain import MAX_TERM_YEARS, BblLevel, Doelgroep, is_temporary

DAYS_PER_YEAR = 365.25
DOELGROEP_BIT = {g: 1 << i for i, g in enumerate(Doelgroep)}
# Groups whose housing is not social rent: a plot restricted to these only cannot take RTHF/SFT homes.
NON_SOCIAL_RENT_GROUPS = frozenset({Doelgroep.expats, Doelgroep.arbeidsmigranten})
NO_END = dt.date.max.toordinal()

Rule = Callable[[Side, Side, "Weights"], np.ndarray]
RULES: dict[str, Rule] = {}  # name -> breach(d, p, w); registry order is the order of pair_violations


def hard_rule(name: str):
    def register(fn: Rule) -> Rule:
        RULES[name] = fn
        return fn
    return register


def deadline(d: Demand, w: Weights) -> dt.date:
    """The last day a plot may open: the end of the storage period inventory set for the stored homes, or
    (before the term ended) the placement's end plus the longest storage gap the policy allows."""
    from shared.clock import add_months

    return d.storage_until or add_months(d.end_date, w.max_storage_gap_months)


# ----------------------------------------------------------------- derived columns


@demand_column("end")
def _end(d: Demand, w: Weights, code) -> int:
    return d.end_date.toordinal()


@plot_column("opens")
def _opens(p: Plot, w: Weights, code) -> int:
    return p.available_from.toordinal()


@plot_column("closes")
def _closes(p: Plot, w: Weights, code) -> int:
    return p.available_until.toordinal() if p.available_until else NO_END


@demand_column("deadline")
def _deadline(d: Demand, w: Weights, code) -> int:
    return deadline(d, w).toordinal()


def required_term_years(p: Plot, w: Weights) -> float:
    """The follow-up term a plot must offer: the policy's minimum, capped by the plot's permit regime
    maximum (DOMAIN.md §3): a Wro voorlopige bestemming plot (at most 5 yr) needs only min(minimum, 5)."""
    max_term = MAX_TERM_YEARS[p.expected_instrument]
    return w.min_follow_up_years if max_term is None else min(w.min_follow_up_years, max_term)


@plot_column("required_term_days")
def _required_term_days(p: Plot, w: Weights, code) -> float:
    return required_term_years(p, w) * DAYS_PER_YEAR


@demand_column("tijdelijk")
def _tijdelijk(d: Demand, w: Weights, code) -> bool:
    return d.bbl_level is BblLevel.tijdelijk


@demand_column("changed")
def _changed(d: Demand, w: Weights, code) -> bool:
    return d.bbl_level is BblLevel.nieuwbouw and d.composition_changed


@plot_column("temporary_ok")
def _temporary_ok(p: Plot, w: Weights, code) -> bool:
    return p.allows_tijdelijk_bbl and is_temporary(p.expected_instrument)


@demand_column("groups")
def _d_groups(d: Demand, w: Weights, code) -> int:
    return sum(DOELGROEP_BIT[g] for g in d.doelgroepen)


@plot_column("groups")
def _p_groups(p: Plot, w: Weights, code) -> int:
    return sum(DOELGROEP_BIT[g] for g in p.doelgroep_restrictions)


@plot_column("non_social")
def _non_social(p: Plot, w: Weights, code) -> bool:
    return bool(p.doelgroep_restrictions) and p.doelgroep_restrictions <= NON_SOCIAL_RENT_GROUPS


@plot_column("excluded")
def _excluded(p: Plot, w: Weights, code) -> bool:
    return bool(p.exclusions)


# ----------------------------------------------------------------- the rules (True = broken)


@hard_rule("exclusion_flag")
def _exclusion_flag(d: Side, p: Side, w: Weights) -> np.ndarray:
    return p.excluded  # a hard PBL exclusion on the plot


@hard_rule("capacity")
def _capacity(d: Side, p: Side, w: Weights) -> np.ndarray:
    return p.free_units <= 0


@hard_rule("time_window_start")
def _time_window_start(d: Side, p: Side, w: Weights) -> np.ndarray:
    return p.opens > d.deadline  # opens after the end plus the longest storage gap


@hard_rule("time_window_term")
def _time_window_term(d: Side, p: Side, w: Weights) -> np.ndarray:
    # open shorter than the follow-up term (the policy's minimum, capped by the plot's permit regime)
    start = np.maximum(d.end, p.opens)
    return (p.closes - start) < p.required_term_days


@hard_rule("bbl_level")
def _bbl_level(d: Side, p: Side, w: Weights) -> np.ndarray:
    return d.tijdelijk & ~p.temporary_ok  # Bbl-tijdelijk homes need a temporary permit


@hard_rule("bbl_composition_changed")
def _bbl_composition_changed(d: Side, p: Side, w: Weights) -> np.ndarray:
    return d.changed & ~p.allows_tijdelijk_bbl


@hard_rule("stacking")
def _stacking(d: Side, p: Side, w: Weights) -> np.ndarray:
    return d.layers > p.max_layers


@hard_rule("doelgroep")
def _doelgroep(d: Side, p: Side, w: Weights) -> np.ndarray:
    # a restricted plot takes only complexes whose target groups all fall within its restriction
    return (p.groups != 0) & ((d.groups == 0) | ((d.groups & ~p.groups) != 0))


@hard_rule("social_rent_lock_in")
def _social_rent_lock_in(d: Side, p: Side, w: Weights) -> np.ndarray:
    return d.social_rent & p.non_social


@hard_rule("social_rent_only_plot")
def _social_rent_only_plot(d: Side, p: Side, w: Weights) -> np.ndarray:
    return p.social_rent_only & ~d.social_rent


@hard_rule("plot_refuses_social_rent")
def _plot_refuses_social_rent(d: Side, p: Side, w: Weights) -> np.ndarray:
    return d.social_rent & ~p.allows_social_rent  # RTHF/SFT homes must stay social rent


@hard_rule("declined_before")
def _declined_before(d: Side, p: Side, w: Weights) -> np.ndarray:
    return contains(d, "excluded_plots", p, "key")  # e.g. plots of a municipality that declined


# ----------------------------------------------------------------- derived checks


def _shape(d: Side, p: Side) -> tuple[int, ...]:
    return np.broadcast_shapes(d.at.shape, p.at.shape)


def breaches(d: Side, p: Side, w: Weights) -> dict[str, np.ndarray]:
    """Per rule, where the pairs break it (full shape, broadcast)."""
    shape = _shape(d, p)
    return {name: np.broadcast_to(rule(d, p, w), shape) for name, rule in RULES.items()}


def violation_blocks(cols: Columns, rows: np.ndarray, w: Weights) -> dict[str, np.ndarray]:
    """Per hard rule, the (rows x plots) breach matrix."""
    return breaches(*cols.block(rows), w)


def feasible_block(cols: Columns, rows: np.ndarray, w: Weights) -> np.ndarray:
    """Boolean matrix (len(rows) x plots): the pairs that break no hard rule."""
    d, p = cols.block(rows)
    ok = np.ones(_shape(d, p), dtype=bool)
    for rule in RULES.values():
        ok &= ~rule(d, p, w)
    return ok


def pair_breaches(cols: Columns, di: np.ndarray, pj: np.ndarray, w: Weights) -> dict[str, np.ndarray]:
    """Per hard rule, which of the aligned (demand, plot) pairs break it."""
    return breaches(*cols.pairs(di, pj), w)


def pair_violations(d: Demand, p: Plot, w: Weights) -> list[str]:
    """Every hard rule the pair breaks (empty = the plot may take these homes)."""
    found = pair_breaches(Columns([d], [p], w), np.zeros(1, dtype=np.int64), np.zeros(1, dtype=np.int64), w)
    return [name for name, broken in found.items() if broken[0]]


def plan_violations(demands: Sequence[Demand], plots: Sequence[Plot], di: np.ndarray, pj: np.ndarray,
                    w: Weights) -> list[list[str]]:
    """Per allocation (pair), the hard rules it breaks, in registry order."""
    if len(di) == 0:
        return []
    found = pair_breaches(Columns(demands, plots, w), di, pj, w)
    return [[name for name, broken in found.items() if broken[k]] for k in range(len(di))]
