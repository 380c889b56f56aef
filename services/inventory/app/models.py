"""Every table of the inventory service, imported here so Alembic sees them all."""

from services.inventory.app.db import Base, bus_tables

__all__ = ["Base", "bus_tables"]
