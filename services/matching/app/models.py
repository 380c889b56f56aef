"""Every table of the matching service, imported here so Alembic sees them all."""

from services.matching.app.db import Base, bus_tables

__all__ = ["Base", "bus_tables"]
