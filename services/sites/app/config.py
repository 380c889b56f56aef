"""Settings of the sites service (environment variables, see shared.config)."""

from shared.config import ServiceSettings


class SitesSettings(ServiceSettings):
    service_name: str = "sites"
    port: int = 8002
