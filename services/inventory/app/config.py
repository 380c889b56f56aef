"""Settings of the inventory service (environment variables, see shared.config)."""

from pydantic import Field

from shared.config import ServiceSettings


class InventorySettings(ServiceSettings):
    service_name: str = "inventory"
    port: int = 8001

    # The expiry signal: how often the background scan runs and how many placements one
    # transaction claims (a claim and its outbox rows commit together).
    expiry_scan_interval_s: float = Field(default=300.0, gt=0)
    expiry_scan_batch_size: int = Field(default=500, ge=1, le=5000)
    # Term of a follow-up placement when neither the plot nor the instrument limits it.
    default_followup_term_years: int = Field(default=10, ge=1, le=50)
    # The longest storage period (opslag) after a term ends without a plot, before the RTHF fallback, until
    # matching publishes its policy (matching.policy.changed); read through policy.storage_gap_months.
    storage_gap_months: int = Field(default=6, ge=0, le=60)
