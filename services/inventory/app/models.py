"""Every table of the inventory service, imported here so Alembic sees them all."""

from services.inventory.app.clock.models import ClockOffset
from services.inventory.app.complexes.models import Complex, Unit
from services.inventory.app.db import Base, bus_tables
from services.inventory.app.placements.models import Placement, PlacementUnit
from services.inventory.app.policy.models import FollowedPolicy
from services.inventory.app.relocations.models import Relocation

__all__ = ["Base", "ClockOffset", "Complex", "FollowedPolicy", "Placement", "PlacementUnit", "Relocation", "Unit", "bus_tables"]
