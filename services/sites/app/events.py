"""Event wiring of the sites service: which events it consumes and which service handles them."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.sites.app.db import clock_table
from services.sites.app.reservations import service as reservations
from shared import product_clock
from shared.bus.handlers import EventHandlers
from shared.events.models import ClockSet, ProposalAccepted, ProposalWithdrawn, RelocationRefused
from shared.runtime import ServiceRuntime

handlers = EventHandlers[ServiceRuntime]()


@handlers.on("matching.proposal.accepted", "matching.proposal.accepted")
async def proposal_accepted(session: AsyncSession, runtime: ServiceRuntime, data: ProposalAccepted) -> None:
    await reservations.reserve(session, runtime, data)


@handlers.on("matching.proposal.withdrawn", "matching.proposal.withdrawn")
async def proposal_withdrawn(session: AsyncSession, runtime: ServiceRuntime, data: ProposalWithdrawn) -> None:
    await reservations.release(session, runtime, data)


@handlers.on("inventory.relocation.refused", "inventory.relocation.refused")
async def relocation_refused(session: AsyncSession, runtime: ServiceRuntime, data: RelocationRefused) -> None:
    await reservations.release_refused(session, runtime, data)
@handlers.on("inventory.clock.set", "inventory.clock.set")
async def clock_set(session: AsyncSession, runtime: ServiceRuntime, data: ClockSet) -> None:
    await product_clock.follow(session, runtime, clock_table, data)
