"""The matching database: its declarative base and the event plumbing tables."""

from sqlalchemy.orm import DeclarativeBase

from shared.bus.tables import define_bus_tables
from shared.db import new_metadata
from shared.product_clock import define_clock_table


class Base(DeclarativeBase):
    metadata = new_metadata()


bus_tables = define_bus_tables(Base.metadata)
clock_table = define_clock_table(Base.metadata)  # the product clock this service follows (owner: inventory)
