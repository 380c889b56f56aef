"""Settings of the matching service (environment variables, see shared.config)."""

from services.matching.app.optimiser.solver import Weights
from shared.config import ServiceSettings


class MatchingSettings(ServiceSettings):
    service_name: str = "matching"
    port: int = 8003

    # hard-constraint parameters
    max_storage_gap_months: int = 6
    min_follow_up_years: float = 5.0
    region_radius_km: float = 30.0
    # objective weights (EUR)
    road_factor: float = 1.3
    transport_eur_per_unit_km: float = 4.0
    split_fixed_eur: float = 35_000.0  # per extra plot: mobilisation, survey, permit, coordination (see Weights)
    storage_eur_per_unit_month: float = 250.0
    relocation_cost_eur_per_unit: float = 30_000.0
    site_prep_share: float = 0.50
    connection_share: float = 0.15
    min_group_penalty_eur: float = 60_000.0  # per piece below min_group_size beyond the one remainder
    # herplaatsingsladder priority (points, not EUR): must exceed every per-home EUR difference
    ladder_step_per_unit: float = 200_000.0
    garantiekavel_penalty_per_unit: float = 5_000_000.0
    # solver
    arc_k: int = 20
    solver_time_limit_s: float = 10.0  # national runs
    proposal_time_limit_s: float = 2.0  # event-driven proposals, inside a handler's transaction
    # proposals
    proposal_deadline_days: int = 30
    expiry_check_interval_s: float = 30.0

    def weights(self, allow_garantiekavel_override: bool = False) -> Weights:
        return Weights(
            road_factor=self.road_factor,
            transport_eur_per_unit_km=self.transport_eur_per_unit_km,
            split_fixed_eur=self.split_fixed_eur,
            storage_eur_per_unit_month=self.storage_eur_per_unit_month,
            relocation_cost_eur_per_unit=self.relocation_cost_eur_per_unit,
            site_prep_share=self.site_prep_share,
            connection_share=self.connection_share,
            min_group_penalty_eur=self.min_group_penalty_eur,
            ladder_step_per_unit=self.ladder_step_per_unit,
            garantiekavel_penalty_per_unit=self.garantiekavel_penalty_per_unit,
            max_storage_gap_months=self.max_storage_gap_months,
            min_follow_up_years=self.min_follow_up_years,
            region_radius_km=self.region_radius_km,
            allow_garantiekavel_override=allow_garantiekavel_override,
        )
