"""How the matcher follows the world: each event is folded into the read model, then (when
`react`) proposals that became infeasible are withdrawn and a re-solve is requested
(`rematch.request`): the consumer never solves, the background matcher does, coalesced
(services/matching/app/rematch/matcher.py). A read-model rebuild folds with react=False, so
nothing is proposed or emitted twice. Every handler takes (session, runtime, data, react).
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import repository as repo
from services.matching.app.proposals import service as proposals
from services.matching.app.proposals.models import OPEN_STATUSES
from services.matching.app.readmodel import repository as rm_repo
from services.matching.app.readmodel import service as readmodel
from services.matching.app.rematch import service as rematch
from shared.events import models as ev

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime


async def complex_registered(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ComplexRegistered, react: bool = True) -> None:
    await readmodel.record_complex(session, data)


async def placement_created(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementCreated, react: bool = True) -> None:
    await readmodel.record_placement(session, data)


async def placement_expiring(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementExpiring, react: bool = True) -> None:
    if await readmodel.record_expiring(session, data) and react:
        await rematch.request(session, runtime, [data.placement_id], reason="expiring")


async def placement_ended(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementEnded, react: bool = True) -> None:
    await readmodel.record_ended(session, data)
    if react:
        pending = await repo.open_proposal_for(session, data.placement_id, ("pending",))
        if pending is not None:
            await proposals.withdraw(session, runtime, pending, "placement_ended")


async def relocation_scheduled(session: AsyncSession, runtime: "ServiceRuntime", data: ev.RelocationScheduled, react: bool = True) -> None:
    proposal = await repo.get_for_update(session, data.proposal_id)
    if proposal is not None and proposal.status in ("accepted", "reserved"):
        proposal.status = "scheduled"
    row = await rm_repo.demand_for_update(session, data.placement_id)
    if row is not None and row.demand_status != "ended":
        row.demand_status = "scheduled"


async def site_changed(session: AsyncSession, runtime: "ServiceRuntime", data: ev.SiteSnapshot, react: bool = True) -> None:
    applied = await readmodel.record_site(session, data)
    if not (applied and react):
        return
    if data.status == "withdrawn":
        await _withdraw_on_site(session, runtime, data.site_id)
    await rematch.request(session, runtime, reason="site_changed")  # new or changed supply: retry waiting demand


async def site_withdrawn(session: AsyncSession, runtime: "ServiceRuntime", data: ev.SiteWithdrawn, react: bool = True) -> None:
    if await readmodel.record_site_withdrawn(session, data) and react:
        await _withdraw_on_site(session, runtime, data.site_id)
        await rematch.request(session, runtime, reason="site_withdrawn")


async def _withdraw_on_site(session: AsyncSession, runtime: "ServiceRuntime", site_id: uuid.UUID) -> None:
    for proposal in await repo.proposals_on_site(session, site_id, OPEN_STATUSES):
        await proposals.withdraw(session, runtime, proposal, "site_withdrawn")
        await proposals.return_to_pool(session, proposal, remember_allocation=False)


async def reservation_confirmed(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ReservationConfirmed, react: bool = True) -> None:
    await readmodel.record_reserved(session, data.sites)
    proposal = await repo.get_for_update(session, data.proposal_id)
    if proposal is not None and proposal.status == "accepted":
        proposal.status = "reserved"
    row = await rm_repo.demand_for_update(session, data.placement_id)
    if row is not None and row.demand_status == "proposed":
        row.demand_status = "reserved"


async def reservation_rejected(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ReservationRejected, react: bool = True) -> None:
    await readmodel.record_short_sites(session, data.short_sites)
    if not react:
        return
    proposal = await repo.get_for_update(session, data.proposal_id)
    if proposal is not None and proposal.status in OPEN_STATUSES:
        await proposals.withdraw(session, runtime, proposal, f"reservation_rejected: {data.reason}")
        await proposals.return_to_pool(session, proposal)
        await session.flush()
        await rematch.request(session, runtime, [proposal.placement_id], reason="reservation_rejected")


async def reservation_released(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ReservationReleased, react: bool = True) -> None:
    await readmodel.record_reserved(session, data.sites)
    if react:
        await rematch.request(session, runtime, reason="reservation_released")
