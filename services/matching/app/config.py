"""Settings of the matching service (environment variables, see shared.config)."""

import dataclasses

from services.matching.app.optimiser.solver import Weights
from shared.config import ServiceSettings

_DEFAULT = Weights()


class MatchingSettings(ServiceSettings):
    service_name: str = "matching"
    port: int = 8003

    # Hard-constraint parameters and objective weights (env: ROAD_FACTOR, SPLIT_FIXED_EUR, ...): they seed
    # version 1 of the matching policy (app/policy); from then on the policy in the database is in force.
    max_storage_gap_months: int = _DEFAULT.max_storage_gap_months
    min_follow_up_years: float = _DEFAULT.min_follow_up_years
    region_radius_km: float = _DEFAULT.region_radius_km
    min_group_before_ladder: bool = _DEFAULT.min_group_before_ladder
    road_factor: float = _DEFAULT.road_factor
    transport_eur_per_unit_km: float = _DEFAULT.transport_eur_per_unit_km
    split_fixed_eur: float = _DEFAULT.split_fixed_eur
    storage_eur_per_unit_month: float = _DEFAULT.storage_eur_per_unit_month
    relocation_cost_eur_per_unit: float = _DEFAULT.relocation_cost_eur_per_unit
    site_prep_share: float = _DEFAULT.site_prep_share
    connection_share: float = _DEFAULT.connection_share
    min_group_penalty_eur: float = _DEFAULT.min_group_penalty_eur
    site_factor_eur_per_unit: float = _DEFAULT.site_factor_eur_per_unit
    ladder_step_per_unit: float = _DEFAULT.ladder_step_per_unit  # herplaatsingsladder priority points, not EUR
    garantiekavel_penalty_per_unit: float = _DEFAULT.garantiekavel_penalty_per_unit
    # solver
    arc_k: int = 20
    solver_time_limit_s: float = 10.0  # national runs
    proposal_time_limit_s: float = 2.0  # event-driven proposals (the background matcher's re-solves)
    # a burst of events folds a fetched batch per commit (the fold is cheap; the commit per event was the limit)
    consumer_batch_transaction: bool = True
    # background matcher (services/matching/app/rematch/matcher.py)
    matcher_enabled: bool = True  # off: requests are recorded but not served (a replica that only serves the API)
    matcher_executor: str = "thread"  # where a re-solve runs: "thread" or "process" (a worker process)
    # a worker process runs at this lower CPU priority (os.nice): under a burst the API, the consumers
    # and PostgreSQL win the CPU; the solver takes what is left (0: the same priority). Not a thread:
    # one of low priority holding the GIL would hold up the event loop.
    matcher_nice: int = 10
    # a re-solve's solver budget scales with its size: this much per demand, at least the floor, at most
    # `proposal_time_limit_s`; a small window (a few placements) is served in a fraction of a second
    proposal_time_per_demand_s: float = 0.004
    proposal_time_floor_s: float = 0.25
    # ... and within that, this much per demand a search can improve (with a feasible arc; from a min-cost
    # start, split or holding a small piece): a backlog slice of placements mostly without one is served
    # at the floor (measured: the same plans as the full budget on the bench's national instances)
    proposal_time_per_searchable_s: float = 0.01
    rematch_window_s: float = 0.15  # requests within this window after the first are served by one solve
    # a solve for given placements takes at most this many, oldest requests first (a burst is served in
    # short solves one after the other; a request for all waiting demand is still served by one solve)
    rematch_max_demands: int = 150
    rematch_poll_interval_s: float = 0.25  # how often to look for requests another replica's commit made
    rematch_bisect_after_failures: int = 3  # then serve in halves, so one demand that fails holds up no other
    # proposals
    proposal_deadline_days: int = 30
    expiry_check_interval_s: float = 30.0

    def weights(self, allow_garantiekavel_override: bool = False) -> Weights:
        """The optimiser's weights from these settings (the override is per run, not a setting)."""
        return Weights(
            **{f.name: getattr(self, f.name) for f in dataclasses.fields(Weights) if f.name != "allow_garantiekavel_override"},
            allow_garantiekavel_override=allow_garantiekavel_override,
        )
