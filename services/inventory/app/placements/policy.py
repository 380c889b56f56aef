"""The policy values the placement lifecycle reads (one function each, so their source can change in one place)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.deps import settings_of
from shared.runtime import ServiceRuntime


async def storage_gap_months(session: AsyncSession, runtime: ServiceRuntime) -> int:  # noqa: ARG001 - the policy will be read from the database
    """The longest allowed storage period in months (DOMAIN.md "Rules the matching must respect", hard constraint 2: the allowed storage gap); the setting for now."""
    return settings_of(runtime).storage_gap_months
