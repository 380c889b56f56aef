"""Event wiring of the inventory service: which subjects it consumes and who handles them."""

from __future__ import annotations

from shared.bus.consumer import Handler
from shared.runtime import ServiceRuntime


def build_handlers(runtime: ServiceRuntime) -> dict[str, dict[str, Handler]]:
    """subject filter (one durable consumer each) -> {event type: handler}."""
    from services.inventory.app.relocations.service import reservation_confirmed_handler

    return {"sites.reservation.confirmed": {"sites.reservation.confirmed": reservation_confirmed_handler(runtime)}}
