"""Event wiring of the matching service: the read model folds inventory.* and sites.*, the matcher reacts.

`react` is a binding option: the live service reacts, a read-model rebuild only folds.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import reactions
from services.matching.app.readmodel import service as readmodel
from shared.bus.handlers import EventHandlers
from shared.events import models as ev
from shared.runtime import ServiceRuntime

handlers = EventHandlers[ServiceRuntime]()


@handlers.on("inventory.>", "inventory.complex.registered")
async def complex_registered(session: AsyncSession, runtime: ServiceRuntime, data: ev.ComplexRegistered, react: bool = True) -> None:
    await readmodel.record_complex(session, data)


@handlers.on("inventory.>", "inventory.placement.created")
async def placement_created(session: AsyncSession, runtime: ServiceRuntime, data: ev.PlacementCreated, react: bool = True) -> None:
    await readmodel.record_placement(session, data)


@handlers.on("inventory.>", "inventory.placement.expiring")
async def placement_expiring(session: AsyncSession, runtime: ServiceRuntime, data: ev.PlacementExpiring, react: bool = True) -> None:
    await reactions.placement_expiring(session, runtime, data, react)


@handlers.on("inventory.>", "inventory.placement.ended")
async def placement_ended(session: AsyncSession, runtime: ServiceRuntime, data: ev.PlacementEnded, react: bool = True) -> None:
    await reactions.placement_ended(session, runtime, data, react)


@handlers.on("inventory.>", "inventory.relocation.scheduled")
async def relocation_scheduled(session: AsyncSession, runtime: ServiceRuntime, data: ev.RelocationScheduled, react: bool = True) -> None:
    await reactions.relocation_scheduled(session, data)


@handlers.on("sites.>", "sites.site.published", "sites.site.updated")
async def site_changed(session: AsyncSession, runtime: ServiceRuntime, data: ev.SiteSnapshot, react: bool = True) -> None:
    await reactions.site_changed(session, runtime, data, react)


@handlers.on("sites.>", "sites.site.withdrawn")
async def site_withdrawn(session: AsyncSession, runtime: ServiceRuntime, data: ev.SiteWithdrawn, react: bool = True) -> None:
    await reactions.site_withdrawn(session, runtime, data, react)


@handlers.on("sites.>", "sites.reservation.confirmed")
async def reservation_confirmed(session: AsyncSession, runtime: ServiceRuntime, data: ev.ReservationConfirmed, react: bool = True) -> None:
    await reactions.reservation_confirmed(session, data)


@handlers.on("sites.>", "sites.reservation.rejected")
async def reservation_rejected(session: AsyncSession, runtime: ServiceRuntime, data: ev.ReservationRejected, react: bool = True) -> None:
    await reactions.reservation_rejected(session, runtime, data, react)


@handlers.on("sites.>", "sites.reservation.released")
async def reservation_released(session: AsyncSession, runtime: ServiceRuntime, data: ev.ReservationReleased, react: bool = True) -> None:
    await reactions.reservation_released(session, runtime, data, react)
