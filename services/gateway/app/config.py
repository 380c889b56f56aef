"""Settings of the gateway (no database; it calls the three services over HTTP)."""

from pydantic import Field

from shared.config import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8000
    inventory_url: str = "http://127.0.0.1:8001"
    sites_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"

    # Upstream calls: total time per attempt, and the (shorter) time to open a connection.
    upstream_timeout_s: float = 10.0
    upstream_connect_timeout_s: float = 2.0
    upstream_max_connections: int = 100
    upstream_max_keepalive: int = 20
    # Extra attempts for idempotent methods (GET/HEAD/PUT/DELETE) after a connect error or a 503.
    upstream_retries: int = 2
    upstream_backoff_s: float = 0.05
    readiness_timeout_s: float = 2.0
    # Circuit breaker per service: after this many transport failures in a row the gateway answers
    # 503 at once for that service's routes, and lets one trial call through every `cooldown`.
    circuit_failures: int = Field(default=3, ge=1)
    circuit_cooldown_s: float = 5.0

    # Token bucket per caller (principal, or client IP when anonymous): sustained rate and burst.
    rate_limit_per_s: float = Field(default=20.0, gt=0)
    rate_limit_burst: int = Field(default=60, ge=1)
    rate_limit_max_buckets: int = 100_000

    def upstream_url(self, service: str) -> str:
        return {"inventory": self.inventory_url, "sites": self.sites_url, "matching": self.matching_url}[service]
