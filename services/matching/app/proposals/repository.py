"""Queries over proposals."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals.models import Proposal, ProposalAllocation
from shared.db import where_given
from shared.domain import Role
from shared.web.identity import Principal
from shared.web.pagination import paginate_entities

ALLOCATOR_LOCK = 7_300_451_003  # one allocator at a time: promised capacity is never handed out twice


def visible_to(principal: Principal) -> sa.Select:
    """Investors: their own; municipalities: proposals touching their plots; marktmeester: all."""
    q = sa.select(Proposal)
    if principal.role is Role.investor:
        q = q.where(Proposal.investor_org == principal.org)
    elif principal.role is Role.municipality:
        touching = sa.select(ProposalAllocation.proposal_id).where(ProposalAllocation.gemeente_code == principal.org)
        q = q.where(Proposal.id.in_(touching))
    elif principal.role is not Role.marktmeester:
        q = q.where(sa.false())
    return q


async def allocations_of(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[ProposalAllocation]]:
    out: dict[uuid.UUID, list[ProposalAllocation]] = {i: [] for i in ids}
    if ids:
        rows = await session.scalars(
            sa.select(ProposalAllocation).where(ProposalAllocation.proposal_id.in_(ids)).order_by(ProposalAllocation.site_id)
        )
        for r in rows:
            out[r.proposal_id].append(r)
    return out


async def open_proposal_for(session: AsyncSession, placement_id: uuid.UUID, statuses: tuple[str, ...]) -> Proposal | None:
    return await session.scalar(
        sa.select(Proposal).where(Proposal.placement_id == placement_id, Proposal.status.in_(statuses)).with_for_update()
    )


async def proposals_for(session: AsyncSession, placement_id: uuid.UUID, statuses: tuple[str, ...]) -> list[Proposal]:
    """Every proposal of the placement in these statuses (parts: an accepted one beside the remainder's)."""
    q = sa.select(Proposal).where(Proposal.placement_id == placement_id, Proposal.status.in_(statuses))
    return list((await session.scalars(q.order_by(Proposal.created_at, Proposal.id).with_for_update())).all())


async def proposals_on_site(session: AsyncSession, site_id: uuid.UUID, statuses: tuple[str, ...]) -> list[Proposal]:
    q = (
        sa.select(Proposal)
        .join(ProposalAllocation, ProposalAllocation.proposal_id == Proposal.id)
        .where(ProposalAllocation.site_id == site_id, Proposal.status.in_(statuses))
        .with_for_update(of=Proposal)
    )
    return list((await session.scalars(q)).all())


async def insert_many(session: AsyncSession, proposals: list[dict], allocations: list[dict]) -> None:
    """Proposals and their allocations as rows, one multi-row statement each (no objects in the session)."""
    await session.execute(sa.insert(Proposal.__table__), proposals)
    if allocations:
        await session.execute(sa.insert(ProposalAllocation.__table__), allocations)


async def lock_allocator(session: AsyncSession) -> None:
    await session.execute(sa.select(sa.func.pg_advisory_xact_lock(ALLOCATOR_LOCK)))


async def get_visible(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, *, lock: bool = False) -> Proposal | None:
    q = visible_to(principal).where(Proposal.id == proposal_id)
    return await session.scalar(q.with_for_update() if lock else q)


async def get(session: AsyncSession, proposal_id: uuid.UUID) -> Proposal | None:
    return await session.get(Proposal, proposal_id)


async def get_for_update(session: AsyncSession, proposal_id: uuid.UUID) -> Proposal | None:
    return await session.get(Proposal, proposal_id, with_for_update=True)


async def page_visible(
    session: AsyncSession, principal: Principal, *, status: str | None, placement_id: uuid.UUID | None, limit: int, cursor: str | None
) -> tuple[list[Proposal], str | None]:
    q = where_given(visible_to(principal), (Proposal.status, status), (Proposal.placement_id, placement_id))
    return await paginate_entities(session, q, [Proposal.created_at, Proposal.id], limit, cursor)


async def overdue_pending(session: AsyncSession, now: dt.datetime) -> list[Proposal]:
    """Pending proposals past their deadline, locked (another replica's check skips them)."""
    q = sa.select(Proposal).where(Proposal.status == "pending", Proposal.expires_at < now).with_for_update(skip_locked=True)
    return list((await session.scalars(q)).all())


async def count_by_status(session: AsyncSession) -> dict[str, int]:
    return {s: int(n) for s, n in (await session.execute(sa.select(Proposal.status, sa.func.count()).group_by(Proposal.status))).all()}


async def unanswered_pending(session: AsyncSession) -> list[Proposal]:
    """Pending proposals no party has accepted yet, locked: a national run may supersede them."""
    q = (
        sa.select(Proposal)
        .where(Proposal.status == "pending", sa.func.jsonb_array_length(Proposal.acceptances) == 0)
        .order_by(Proposal.placement_id)
        .with_for_update()
    )
    return list((await session.scalars(q)).all())
