"""Event wiring of the matching service: the read model folds inventory.* and sites.*, the matcher reacts."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import repository as prepo
from services.matching.app.proposals import service as proposals
from services.matching.app.proposals.models import OPEN_STATUSES, Proposal
from services.matching.app.readmodel import service as readmodel
from services.matching.app.readmodel.models import PlacementDemand
from shared.bus.consumer import Handler
from shared.events import models as ev
from shared.events.envelope import CloudEvent

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


def build_handlers(runtime: "ServiceRuntime", *, react: bool = True) -> dict[str, dict[str, Handler]]:
    """Handlers per subject filter. With react=False only the read model is folded (rebuilds)."""

    async def complex_registered(session: AsyncSession, event: CloudEvent, data: ev.ComplexRegistered) -> None:
        await readmodel.record_complex(session, data)

    async def placement_created(session: AsyncSession, event: CloudEvent, data: ev.PlacementCreated) -> None:
        await readmodel.record_placement(session, data)

    async def placement_expiring(session: AsyncSession, event: CloudEvent, data: ev.PlacementExpiring) -> None:
        if await readmodel.record_expiring(session, data) and react:
            await proposals.propose(session, runtime, [data.placement_id])

    async def placement_ended(session: AsyncSession, event: CloudEvent, data: ev.PlacementEnded) -> None:
        await readmodel.record_ended(session, data)
        if react:
            pending = await prepo.open_proposal_for(session, data.placement_id, ("pending",))
            if pending is not None:
                await proposals.withdraw(session, runtime, pending, "placement_ended")

    async def relocation_scheduled(session: AsyncSession, event: CloudEvent, data: ev.RelocationScheduled) -> None:
        proposal = await session.get(Proposal, data.proposal_id, with_for_update=True)
        if proposal is not None and proposal.status in ("accepted", "reserved"):
            proposal.status = "scheduled"
        row = await session.get(PlacementDemand, data.placement_id, with_for_update=True)
        if row is not None and row.demand_status != "ended":
            row.demand_status = "scheduled"

    async def site_changed(session: AsyncSession, event: CloudEvent, data: ev.SiteSnapshot) -> None:
        applied = await readmodel.record_site(session, data)
        if not (applied and react):
            return
        if data.status == "withdrawn":
            await _withdraw_on_site(session, data.site_id, "site_withdrawn")
        await proposals.propose(session, runtime)  # new or changed supply: retry waiting demand

    async def site_withdrawn(session: AsyncSession, event: CloudEvent, data: ev.SiteWithdrawn) -> None:
        if await readmodel.record_site_withdrawn(session, data) and react:
            await _withdraw_on_site(session, data.site_id, "site_withdrawn")
            await proposals.propose(session, runtime)

    async def _withdraw_on_site(session: AsyncSession, site_id, reason: str) -> None:  # noqa: ANN001
        affected = await prepo.proposals_on_site(session, site_id, OPEN_STATUSES)
        for proposal in affected:
            await proposals.withdraw(session, runtime, proposal, reason)
            await proposals.return_to_pool(session, proposal, remember_allocation=False)

    async def reservation_confirmed(session: AsyncSession, event: CloudEvent, data: ev.ReservationConfirmed) -> None:
        for s in data.sites:
            await readmodel.set_reserved(session, s.site_id, s.reserved_units)
        proposal = await session.get(Proposal, data.proposal_id, with_for_update=True)
        if proposal is not None and proposal.status == "accepted":
            proposal.status = "reserved"
        row = await session.get(PlacementDemand, data.placement_id, with_for_update=True)
        if row is not None and row.demand_status == "proposed":
            row.demand_status = "reserved"

    async def reservation_rejected(session: AsyncSession, event: CloudEvent, data: ev.ReservationRejected) -> None:
        for s in data.short_sites:  # sites told us what is really free
            plot = await session.get(readmodel.PlotView, s.site_id, with_for_update=True)
            if plot is not None:
                plot.reserved_units = max(0, plot.capacity_units - s.free_units)
        if not react:
            return
        proposal = await session.get(Proposal, data.proposal_id, with_for_update=True)
        if proposal is not None and proposal.status in OPEN_STATUSES:
            await proposals.withdraw(session, runtime, proposal, f"reservation_rejected: {data.reason}")
            await proposals.return_to_pool(session, proposal)
            await session.flush()
            await proposals.propose(session, runtime, [proposal.placement_id])

    async def reservation_released(session: AsyncSession, event: CloudEvent, data: ev.ReservationReleased) -> None:
        for s in data.sites:
            await readmodel.set_reserved(session, s.site_id, s.reserved_units)
        if react:
            await proposals.propose(session, runtime)

    return {
        "inventory.>": {
            "inventory.complex.registered": complex_registered,
            "inventory.placement.created": placement_created,
            "inventory.placement.expiring": placement_expiring,
            "inventory.placement.ended": placement_ended,
            "inventory.relocation.scheduled": relocation_scheduled,
        },
        "sites.>": {
            "sites.site.published": site_changed,
            "sites.site.updated": site_changed,
            "sites.site.withdrawn": site_withdrawn,
            "sites.reservation.confirmed": reservation_confirmed,
            "sites.reservation.rejected": reservation_rejected,
            "sites.reservation.released": reservation_released,
        },
    }


# Filled by create_app (the handlers close over the runtime).
HANDLERS: dict[str, dict[str, Handler]] = {}
