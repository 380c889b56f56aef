"""How the matcher follows the world: each event is folded into the read model and the home
ledger, then (when `react`) proposals that became infeasible are withdrawn and a re-solve is
requested (`rematch.request`): the consumer never solves, the background matcher does, coalesced
(services/matching/app/rematch/matcher.py). A rebuild folds with react=False, so nothing is
proposed or emitted twice. Every handler takes (session, runtime, data, react).

The lifecycle (DESIGN "The lifecycle of a home"): a placement whose term ends unrelocated is
stored and stays demand; one in fallback or closed is no longer matched; a changed term is
re-planned; a follow-up placement that starts has its homes moved. Demand is never dropped.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.db import clock_table
from services.matching.app.ledger import fold as ledger
from services.matching.app.policy import service as policies
from services.matching.app.proposals import repository as repo
from services.matching.app.proposals import service as proposals
from services.matching.app.proposals.models import OPEN_STATUSES
from services.matching.app.readmodel import repository as rm_repo
from services.matching.app.readmodel import service as readmodel
from shared import product_clock
from shared.clock import add_months
from services.matching.app.rematch import service as rematch
from shared.events import models as ev

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime


async def complex_registered(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ComplexRegistered, react: bool = True) -> None:
    await readmodel.record_complex(session, data)
    await ledger.complex_registered(session, data, runtime.clock.today())


async def placement_created(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementCreated, react: bool = True) -> None:
    await readmodel.record_placement(session, data)
    await ledger.placement_created(session, data)


async def placement_expiring(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementExpiring, react: bool = True) -> None:
    await placement_expiring_many(session, runtime, [data], react)


async def placement_expiring_many(session: AsyncSession, runtime: "ServiceRuntime", datas: list[ev.PlacementExpiring],
                                  react: bool = True) -> None:
    """A run of expiring placements from one batch (a burst), folded set-based: a few statements for the
    run instead of a few per event. A placement twice in the run is folded in turns, as one by one."""
    for part in _distinct_runs(datas, lambda d: d.placement_id):
        became_demand = await readmodel.record_expiring_many(session, part)
        await ledger.placement_expiring_many(session, part)
        if became_demand and react:
            await rematch.request(session, runtime, became_demand, reason="expiring")


def _distinct_runs(items: list, key) -> list[list]:  # noqa: ANN001
    """Consecutive parts in which no key repeats (in order): each part can be folded at once."""
    parts: list[list] = [[]]
    seen: set = set()
    for item in items:
        if key(item) in seen:
            parts.append([])
            seen.clear()
        parts[-1].append(item)
        seen.add(key(item))
    return [p for p in parts if p]


async def placement_ended(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementEnded, react: bool = True) -> None:
    """Not relocated (or only in part): the homes are in storage and still demand. A pending proposal whose
    plots open within the storage period may stay; otherwise it is withdrawn and the demand proposed again."""
    row = await readmodel.record_ended(session, data)
    await ledger.placement_ended(session, data)
    if not react or row is None:
        return
    pending = await repo.open_proposal_for(session, data.placement_id, ("pending",))
    if row.demand_status == "ended":  # relocated in full: nothing left to propose for
        if pending is not None:
            await proposals.withdraw(session, runtime, pending, "placement_ended")
        return
    policy = await policies.current(session, runtime)
    storage_until = data.storage_until or add_months(data.end_date, policy.parameters.storage_gap_months)
    if pending is not None and pending.move_window_start > storage_until:
        await proposals.withdraw(session, runtime, pending, "placement_ended: plot opens after the storage period")
        await proposals.return_to_pool(session, pending)  # remembered: not offered again as it was
        pending = None
    if pending is None and row.demand_status == "waiting":
        await rematch.request(session, runtime, [data.placement_id], reason="placement_ended_in_storage")


async def placement_fallback(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementFallback, react: bool = True) -> None:
    """Offered for sale after the longest storage period: no longer matched."""
    await readmodel.record_fallback(session, data)
    await ledger.placement_fallback(session, data, runtime.clock.today())
    if react:
        for proposal in await repo.proposals_for(session, data.placement_id, ("pending",)):
            await proposals.withdraw(session, runtime, proposal, "fallback")


async def placement_closed(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementClosed, react: bool = True) -> None:
    """Sold or dismantled: the demand is closed and every open proposal withdrawn (an accepted or reserved
    one too: sites releases its capacity on matching.proposal.withdrawn)."""
    await readmodel.record_closed(session, data)
    await ledger.placement_closed(session, data)
    if react:
        for proposal in await repo.proposals_for(session, data.placement_id, ("pending", "accepted", "reserved")):
            await proposals.withdraw(session, runtime, proposal, f"placement_closed: {data.end_state.value}")


async def placement_updated(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementUpdated, react: bool = True) -> None:
    """A changed term: a pending proposal was made for the old one (withdrawn); beyond the horizon the
    placement is no demand yet, otherwise it is proposed again for the new end date."""
    pending = await repo.open_proposal_for(session, data.placement_id, ("pending",)) if react else None
    if pending is not None:
        await proposals.withdraw(session, runtime, pending, "placement_changed")
        await proposals.return_to_pool(session, pending, remember_allocation=False)
    today = await product_clock.today(session, runtime, clock_table)
    horizon_months = (await policies.current(session, runtime)).parameters.horizon_months
    row = await readmodel.record_updated(session, data, today, horizon_months)
    if row is not None and row.demand_status not in ("ended", "fallback", "closed"):
        if data.end_date < today:
            phase = "in_storage"
        elif readmodel.within_horizon(data.end_date, today, horizon_months):
            phase = "expiring"
        else:
            phase = "in_place"
        await ledger.placement_updated(session, data, phase, today)
    if react and row is not None and row.demand_status == "waiting":
        await rematch.request(session, runtime, [data.placement_id], reason="placement_changed")


async def placement_started(session: AsyncSession, runtime: "ServiceRuntime", data: ev.PlacementStarted, react: bool = True) -> None:
    """The follow-up placement is active: its homes have moved."""
    await ledger.placement_started(session, data)


async def relocation_scheduled(session: AsyncSession, runtime: "ServiceRuntime", data: ev.RelocationScheduled, react: bool = True) -> None:
    proposal = await repo.get_for_update(session, data.proposal_id)
    if proposal is not None and proposal.status in ("accepted", "reserved"):
        proposal.status = "scheduled"
    row = await rm_repo.demand_for_update(session, data.placement_id)
    # a relocation in parts: the demand is scheduled only when no remainder is left
    if row is not None and row.demand_status in ("proposed", "reserved") and row.remaining_units == 0:
        row.demand_status = "scheduled"
    await ledger.relocation_scheduled(session, data, runtime.clock.today())


async def site_changed(session: AsyncSession, runtime: "ServiceRuntime", data: ev.SiteSnapshot, react: bool = True) -> None:
    await site_changed_many(session, runtime, [data], react)


async def site_changed_many(session: AsyncSession, runtime: "ServiceRuntime", datas: list[ev.SiteSnapshot],
                            react: bool = True) -> None:
    """A run of plot snapshots from one batch, in order. New or changed supply retries all waiting demand:
    one request for the run does what one per plot would."""
    changed = False
    for data in datas:
        if not await readmodel.record_site(session, data):
            continue
        changed = True
        if react and data.status == "withdrawn":
            await _withdraw_on_site(session, runtime, data.site_id)
    if changed and react:
        await rematch.request(session, runtime, reason="site_changed")


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
    if row is not None and row.demand_status == "proposed" and row.remaining_units == 0:
        row.demand_status = "reserved"
    await ledger.reservation_confirmed(session, data.proposal_id, runtime.clock.today())


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


async def relocation_refused(session: AsyncSession, runtime: "ServiceRuntime", data: ev.RelocationRefused, react: bool = True) -> None:
    """Compensation: inventory refused the relocation (sites releases the capacity on the same event).
    The proposal is withdrawn, its demand waits again and is proposed anew."""
    if not react:
        return  # proposals are not the read model: a rebuild leaves them alone
    proposal = await repo.get_for_update(session, data.proposal_id)
    if proposal is None or proposal.status not in ("accepted", "reserved"):
        return  # already withdrawn (a redelivery) or never reached acceptance
    await proposals.withdraw(session, runtime, proposal, f"relocation_refused: {data.reason}")
    # the plots were fine, the placement was not: the same allocation may be offered again
    await proposals.return_to_pool(session, proposal, remember_allocation=False)
    await rematch.request(session, runtime, [proposal.placement_id], reason="relocation_refused")


async def reservation_released(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ReservationReleased, react: bool = True) -> None:
    await readmodel.record_reserved(session, data.sites)
    if react:
        await rematch.request(session, runtime, reason="reservation_released")


async def clock_set(session: AsyncSession, runtime: "ServiceRuntime", data: ev.ClockSet, react: bool = True) -> None:
    """Follow the product clock; moved forward, proposals whose deadline passed in product time expire at once."""
    if await product_clock.follow(session, runtime, clock_table, data) and react:
        await proposals.expire_overdue(session, runtime)
