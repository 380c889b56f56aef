"""Settings of the matching service (environment variables, see shared.config)."""

from shared.config import ServiceSettings


class MatchingSettings(ServiceSettings):
    service_name: str = "matching"
    port: int = 8003
