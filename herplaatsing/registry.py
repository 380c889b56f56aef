"""The one table of the four services: what the runner, the migrations driver and the tests need to know.

`shared/` (the library) names no service; the services do not read this table (each
declares its own event handlers, checked against `consumes` in tests/test_registry.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_BASE_PORT = 8000


@dataclass(frozen=True)
class Service:
    name: str
    app: str  # uvicorn factory, "module:callable"
    port_offset: int  # port = base port + offset (the gateway is the base port)
    database: str | None = None  # its own database on the PostgreSQL server; None: stateless
    consumes: tuple[str, ...] = ()  # subject filters, one durable consumer each

    @property
    def stateful(self) -> bool:
        return self.database is not None

    @property
    def directory(self) -> Path:
        """services/<name>: alembic.ini and the alembic/ history of a stateful service."""
        return ROOT / "services" / self.name

    @property
    def package(self) -> str:
        return self.app.split(":", 1)[0].rsplit(".", 1)[0]  # services.<name>.app

    @property
    def bus_tables(self) -> str:
        """Module holding the service's outbox/inbox tables (`herplaatsing replay`)."""
        return f"{self.package}.db"

    def port(self, base: int = DEFAULT_BASE_PORT) -> int:
        return base + self.port_offset


SERVICES: dict[str, Service] = {
    s.name: s
    for s in (
        Service("gateway", "services.gateway.app.main:create_app", 0),
        Service(
            "inventory", "services.inventory.app.main:create_app", 1,
            database="herplaatsing_inventory",
            consumes=("sites.reservation.confirmed", "matching.policy.changed"),
        ),
        Service(
            "sites", "services.sites.app.main:create_app", 2,
            database="herplaatsing_sites",
            consumes=(
                "matching.proposal.accepted", "matching.proposal.withdrawn", "inventory.relocation.refused",
                "inventory.clock.set",
            ),
        ),
        Service(
            "matching", "services.matching.app.main:create_app", 3,
            database="herplaatsing_matching",
            consumes=("inventory.>", "sites.>"),
        ),
    )
}
STATEFUL: tuple[str, ...] = tuple(name for name, s in SERVICES.items() if s.stateful)


def ports(base: int = DEFAULT_BASE_PORT) -> dict[str, int]:
    return {name: s.port(base) for name, s in SERVICES.items()}


def upstream_env(urls: dict[str, str]) -> dict[str, str]:
    """The gateway's view of the stateful services: INVENTORY_URL, SITES_URL, MATCHING_URL."""
    return {f"{name.upper()}_URL": urls[name] for name in STATEFUL}
