"""Clock schemas: the inventory service's own models."""

from services.inventory.app.clock.schemas import ClockChange, ClockState

__all__ = ["ClockChange", "ClockState"]
