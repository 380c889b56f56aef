"""The Alembic history matches the models and can be rolled back."""

from __future__ import annotations

import asyncio

from herplaatsing.migrations import check, downgrade, upgrade


async def test_models_and_migrations_do_not_drift_and_downgrade_works(databases):
    url = await databases("sites")
    await asyncio.to_thread(check, "sites", url)  # raises when autogenerate would find differences
    await asyncio.to_thread(downgrade, "sites", url, "base")
    await asyncio.to_thread(upgrade, "sites", url)
    await asyncio.to_thread(check, "sites", url)
