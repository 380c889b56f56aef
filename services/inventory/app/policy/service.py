"""The matching policy as far as the inventory needs it: the expiry horizon and the storage period.

Matching owns the policy and publishes every new version (matching.policy.changed); the inventory
keeps the newest version's two values. Before any version arrived, its own settings apply.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.deps import settings_of
from services.inventory.app.policy.models import FollowedPolicy
from shared.events.models import PolicyChanged
from shared.runtime import ServiceRuntime


async def _current(session: AsyncSession) -> FollowedPolicy | None:
    return await session.scalar(sa.select(FollowedPolicy).where(FollowedPolicy.id == 1))


async def horizon_months(session: AsyncSession, runtime: ServiceRuntime) -> int:
    """How many months ahead a placement's end makes it `expiring` (policy `horizon_months`)."""
    current = await _current(session)
    return current.horizon_months if current is not None else settings_of(runtime).expiry_horizon_months


async def storage_gap_months(session: AsyncSession, runtime: ServiceRuntime) -> int:
    """The longest a home may stay in storage between two plots (policy `storage_gap_months`)."""
    current = await _current(session)
    return current.storage_gap_months if current is not None else settings_of(runtime).storage_gap_months


async def follow(session: AsyncSession, runtime: ServiceRuntime, data: PolicyChanged) -> bool:
    """Keep the values of a newer version (a redelivered or late older one changes nothing); True when applied."""
    current = await _current(session)
    horizon = int(data.parameters.get("horizon_months", current.horizon_months if current else settings_of(runtime).expiry_horizon_months))
    gap = int(data.parameters.get("storage_gap_months", current.storage_gap_months if current else settings_of(runtime).storage_gap_months))
    values = {"version": data.version, "horizon_months": horizon, "storage_gap_months": gap, "set_at": data.set_at}
    applied = await session.execute(
        pg_insert(FollowedPolicy)
        .values(id=1, **values)
        .on_conflict_do_update(index_elements=[FollowedPolicy.id], set_=values, where=FollowedPolicy.version < data.version)
        .returning(FollowedPolicy.version)
    )
    return applied.first() is not None
