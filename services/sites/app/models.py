"""Every table of the sites service, imported here so Alembic sees them all."""

from services.sites.app.db import Base, bus_tables
from services.sites.app.reservations.models import Reservation, ReservationLine
from services.sites.app.sites.models import Site

__all__ = ["Base", "Reservation", "ReservationLine", "Site", "bus_tables"]
