"""Request dependencies of the inventory's domain modules (the generic ones live in shared.web.deps)."""

from __future__ import annotations

from services.inventory.app.config import InventorySettings
from shared.runtime import ServiceRuntime
from shared.web.deps import Runtime, Session, WriteSession

__all__ = ["Runtime", "Session", "WriteSession", "settings_of"]


def settings_of(runtime: ServiceRuntime) -> InventorySettings:
    return runtime.settings  # type: ignore[return-value]
