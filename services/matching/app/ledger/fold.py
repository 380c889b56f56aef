"""Folding events into the home ledger. Each function is one transition, called by the live consumer
(inventory.*, sites.*), by the proposal service in the transaction of its own transition
(matching.proposal.*), and by the rebuild from the stream (all three, in stream order).

`on` is the product date the transition happened (from the event where it carries one).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.ledger import repository as repo
from services.matching.app.ledger.models import DEMAND_PHASES, LedgerHome, state_of
from shared.events import models as ev
from shared.reference import province_of

_KEEP = repo.KEEP


def _set(home: LedgerHome, on: dt.date, *, phase: str = _KEEP, stage: str | None = _KEEP,
         proposal_id: uuid.UUID | None = _KEEP, reason: str | None = _KEEP) -> None:
    """One home, in Python (the relocation plan's swap); the same rule as `repository.update_homes`."""
    if phase is not _KEEP:
        home.phase = phase
    if stage is not _KEEP:
        home.stage = stage
    if proposal_id is not _KEEP:
        home.proposal_id = proposal_id
    if reason is not _KEEP:
        home.reason = reason
    state = state_of(home.phase, home.stage).value
    if state != home.state:
        home.state, home.since = state, on


_update = repo.update_homes
H = LedgerHome


async def _insert_new(session: AsyncSession, unit_ids: Iterable[uuid.UUID], *, placement_id: uuid.UUID,
                      complex_id: uuid.UUID, investor_org: str, gemeente_code: str, province_code: str | None,
                      phase: str, on: dt.date, reason: str | None = None) -> None:
    """Homes not yet in the ledger (first seen in this event); known homes are left as they are."""
    await repo.insert_new_homes(session, [
        dict(unit_id=u, placement_id=placement_id, complex_id=complex_id, investor_org=investor_org,
             gemeente_code=gemeente_code, province_code=province_code or province_of(gemeente_code),
             phase=phase, stage=None, proposal_id=None, state=state_of(phase, None).value, since=on, reason=reason)
        for u in unit_ids])


# ----------------------------------------------------------------- inventory


async def complex_registered(session: AsyncSession, data: ev.ComplexRegistered, on: dt.date) -> None:
    """The homes of a new complex are counted from its registration on: `registered`, no placement yet."""
    await repo.insert_new_homes(session, [
        dict(unit_id=u, placement_id=None, complex_id=data.complex_id, investor_org=data.investor_org, gemeente_code=None,
             province_code=None, phase="registered", stage=None, proposal_id=None, state="registered", since=on, reason=None)
        for u in data.unit_ids])


async def placement_created(session: AsyncSession, data: ev.PlacementCreated) -> None:
    """A first placement puts its homes in place (registered ones, or first seen here). A follow-up placement
    (of a relocation plan) changes nothing yet: its homes are relocation_scheduled until the placement starts."""
    await _update(session, [H.unit_id.in_(data.unit_ids), H.phase == "registered"], data.start_date, phase="in_place",
                  placement_id=data.placement_id, gemeente_code=data.gemeente_code,
                  province_code=data.province_code or province_of(data.gemeente_code))
    await _insert_new(session, data.unit_ids, placement_id=data.placement_id, complex_id=data.complex_id,
                      investor_org=data.investor_org, gemeente_code=data.gemeente_code, province_code=data.province_code,
                      phase="in_place", on=data.start_date)


async def placement_expiring(session: AsyncSession, data: ev.PlacementExpiring) -> None:
    await placement_expiring_many(session, [data])


async def placement_expiring_many(session: AsyncSession, datas: list[ev.PlacementExpiring]) -> None:
    """`placement_expiring` for several placements (each at most once): one insert, one update per detection date."""
    await repo.insert_new_homes(session, [
        dict(unit_id=u, placement_id=d.placement_id, complex_id=d.complex.complex_id, investor_org=d.complex.investor_org,
             gemeente_code=d.gemeente_code, province_code=d.province_code or province_of(d.gemeente_code),
             phase="expiring", stage=None, proposal_id=None, state=state_of("expiring", None).value, since=d.detected_on,
             reason=None)
        for d in datas for u in d.unit_ids])
    by_date: dict[dt.date, list[uuid.UUID]] = {}
    for d in datas:
        by_date.setdefault(d.detected_on, []).append(d.placement_id)
    # at a first placement (in_place) or a follow-up one (moved): the term of where they stand now
    for on, placement_ids in by_date.items():
        await _update(session, [H.placement_id.in_(placement_ids), H.phase.in_(("in_place", "moved"))], on, phase="expiring")


async def placement_ended(session: AsyncSession, data: ev.PlacementEnded) -> None:
    """The term ended: every home of it still at its place goes into storage (opslag), relocated or not
    (a remainder of a relocation in parts is stored too); homes with a relocation plan keep it."""
    await _update(session, [H.placement_id == data.placement_id, H.phase.in_(("in_place", "moved", "expiring"))], data.end_date,
                  phase="in_storage", reason="term_ended")


async def placement_updated(session: AsyncSession, data: ev.PlacementUpdated, phase: str, on: dt.date) -> None:
    """A changed term: the homes still at their place (or stored) take `phase` (decided with the demand)."""
    await _update(session, [H.placement_id == data.placement_id, H.phase.in_(DEMAND_PHASES)], on, phase=phase,
                  reason="placement_changed")


async def placement_started(session: AsyncSession, data: ev.PlacementStarted) -> None:
    """The follow-up placement is active: its homes have moved (and now stand in its gemeente)."""
    province = province_of(data.gemeente_code)
    await _update(session, [H.unit_id.in_(data.unit_ids)], data.start_date, phase="moved", stage=None, reason=None,
                  placement_id=data.placement_id, gemeente_code=data.gemeente_code, province_code=province)
    await _insert_new(session, data.unit_ids, placement_id=data.placement_id, complex_id=data.complex_id,
                      investor_org=data.investor_org, gemeente_code=data.gemeente_code, province_code=province,
                      phase="moved", on=data.start_date)


async def placement_fallback(session: AsyncSession, data: ev.PlacementFallback, on: dt.date) -> None:
    await _update(session, [H.unit_id.in_(data.unit_ids), H.phase.in_(DEMAND_PHASES)], on, phase="fallback", stage=None,
                  proposal_id=None, reason="fallback")


async def placement_closed(session: AsyncSession, data: ev.PlacementClosed) -> None:
    await _update(session, [H.unit_id.in_(data.unit_ids)], data.closed_on, phase=data.end_state.value, stage=None,
                  proposal_id=None, reason=data.reason)


async def relocation_scheduled(session: AsyncSession, data: ev.RelocationScheduled, on: dt.date) -> None:
    """The plan names the homes that move. Where they differ from the homes the ledger had counted into the
    proposal, the two swap roles (the counted-but-not-moving ones take over what the moving ones held)."""
    moving = {u for a in data.allocations for u in a.unit_ids}
    counted = await repo.homes_for_update(session, LedgerHome.proposal_id == data.proposal_id, LedgerHome.unit_id.not_in(moving))
    named = await repo.homes_for_update(session, LedgerHome.unit_id.in_(moving))
    displaced = [(h.proposal_id, h.stage) for h in named if h.proposal_id != data.proposal_id and h.phase in DEMAND_PHASES]
    for home in counted:
        proposal_id, stage = displaced.pop(0) if displaced else (None, None)
        _set(home, on, proposal_id=proposal_id, stage=stage)
    for home in named:
        _set(home, on, phase="relocation_scheduled", stage=None, proposal_id=data.proposal_id, reason=None)
    await session.flush()
    repo.forget(session, counted + named)


# ----------------------------------------------------------------- sites, matching


async def reservation_confirmed(session: AsyncSession, proposal_id: uuid.UUID, on: dt.date) -> None:
    await _update(session, [H.proposal_id == proposal_id, H.stage == "agreed"], on, stage="reserved")


async def proposal_created(session: AsyncSession, proposal_id: uuid.UUID, placement_id: uuid.UUID, housed: int,
                           on: dt.date) -> None:
    """The proposal covers `housed` homes of its placement: the first free ones by unit id; the others are
    the remainder (restvraag), still demand."""
    await repo.proposals_created(session, [(proposal_id, placement_id, housed)], on)


async def proposals_created(session: AsyncSession, created: list[tuple[uuid.UUID, uuid.UUID, int]], on: dt.date) -> None:
    """Many `proposal_created` at once (proposal, placement, housed), at most one per placement: the
    background matcher writes hundreds of proposals in a burst, one statement per chunk."""
    await repo.proposals_created(session, created, on)


async def proposal_accepted(session: AsyncSession, proposal_id: uuid.UUID, on: dt.date) -> None:
    await _update(session, [H.proposal_id == proposal_id, H.stage == "proposed"], on, stage="agreed")


async def proposal_ended(session: AsyncSession, proposal_id: uuid.UUID, reason: str, on: dt.date) -> None:
    """Declined, expired or withdrawn: the homes it covered are demand again (expiring or in storage)."""
    await _update(session, [H.proposal_id == proposal_id, H.phase.in_(DEMAND_PHASES)], on, stage=None, proposal_id=None,
                  reason=reason)


async def proposal_events(session: AsyncSession, event_type: str, data: ev.EventData,
                          dates: dict[str, dt.date | None], today: dt.date) -> None:
    """A matching.proposal.* event from the stream (the rebuild); `dates`: the proposal's created/decided dates."""
    created, decided = dates.get("created") or today, dates.get("decided") or dates.get("created") or today
    if isinstance(data, ev.ProposalCreated):
        await proposal_created(session, data.proposal_id, data.placement_id, sum(a.units for a in data.allocations), created)
    elif isinstance(data, ev.ProposalAccepted):
        await proposal_accepted(session, data.proposal_id, decided)
    elif isinstance(data, ev.ProposalWithdrawn):
        await proposal_ended(session, data.proposal_id, data.reason, decided)
    elif isinstance(data, (ev.ProposalDeclined, ev.ProposalExpired)):
        await proposal_ended(session, data.proposal_id, event_type.rsplit(".", 1)[-1], decided)


