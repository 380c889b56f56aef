"""Event wiring of the inventory service: which events it consumes and which service handles them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.policy import service as policy
from services.inventory.app.relocations import service as relocations
from shared.bus.handlers import EventHandlers
from shared.events.models import PolicyChanged, ReservationConfirmed
from shared.runtime import ServiceRuntime

handlers = EventHandlers[ServiceRuntime]()


@handlers.on("sites.reservation.confirmed", "sites.reservation.confirmed")
async def reservation_confirmed(session: AsyncSession, runtime: ServiceRuntime, data: ReservationConfirmed) -> None:
    await relocations.schedule(session, runtime, data)


@handlers.on("matching.policy.changed", "matching.policy.changed")
async def policy_changed(session: AsyncSession, runtime: ServiceRuntime, data: PolicyChanged) -> None:
    await policy.follow(session, runtime, data)
