"""The matching policy as far as the inventory needs it: the expiry horizon and the storage period.

Matching owns the policy and publishes every new version (matching.policy.changed); the inventory
keeps the newest version's two values. Before any version arrived, its own settings apply.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.deps import settings_of
from services.inventory.app.policy import repository
from shared.events.models import PolicyChanged
from shared.runtime import ServiceRuntime


async def horizon_months(session: AsyncSession, runtime: ServiceRuntime) -> int:
    """How many months ahead a placement's end makes it `expiring` (policy `horizon_months`)."""
    current = await repository.current(session)
    return current.horizon_months if current is not None else settings_of(runtime).expiry_horizon_months


async def storage_gap_months(session: AsyncSession, runtime: ServiceRuntime) -> int:
    """The longest a home may stay in storage between two plots (policy `storage_gap_months`)."""
    current = await repository.current(session)
    return current.storage_gap_months if current is not None else settings_of(runtime).storage_gap_months


def _months(value: object, fallback: int, high: int) -> int:
    """A whole number of months within the policy's bounds; anything else keeps the value in force."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value != int(value) or not 0 <= value <= high:
        return fallback
    return int(value)


async def follow(session: AsyncSession, runtime: ServiceRuntime, data: PolicyChanged) -> bool:
    """Keep the values of a newer version (a redelivered or late older one changes nothing); True when applied."""
    current = await repository.current(session)
    settings = settings_of(runtime)
    horizon = current.horizon_months if current else settings.expiry_horizon_months
    gap = current.storage_gap_months if current else settings.storage_gap_months
    values = {
        "version": data.version,
        "horizon_months": _months(data.parameters.get("horizon_months"), horizon, 120) or horizon,
        "storage_gap_months": _months(data.parameters.get("storage_gap_months"), gap, 36),
        "set_at": data.set_at,
    }
    return await repository.store_if_newer(session, values)
