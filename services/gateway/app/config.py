"""Settings of the gateway (no database; it calls the three services over HTTP)."""

from shared.config import ServiceSettings


class GatewaySettings(ServiceSettings):
    service_name: str = "gateway"
    port: int = 8000
    inventory_url: str = "http://127.0.0.1:8001"
    sites_url: str = "http://127.0.0.1:8002"
    matching_url: str = "http://127.0.0.1:8003"
    upstream_timeout_s: float = 10.0
