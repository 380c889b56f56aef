"""Every table of the sites service, imported here so Alembic sees them all."""

from services.sites.app.db import Base, bus_tables

__all__ = ["Base", "bus_tables"]
