"""Settings of the inventory service (environment variables, see shared.config)."""

from shared.config import ServiceSettings


class InventorySettings(ServiceSettings):
    service_name: str = "inventory"
    port: int = 8001
