"""The inventory's Alembic history matches its models and runs down and up again."""

from __future__ import annotations

import asyncio

from herplaatsing.migrations import check, downgrade, upgrade


async def test_models_match_migrations_and_downgrade_upgrade_round_trips(databases):
    url = await databases("inventory")
    await asyncio.to_thread(check, "inventory", url)  # raises on drift
    await asyncio.to_thread(downgrade, "inventory", url, "base")
    await asyncio.to_thread(upgrade, "inventory", url)
    await asyncio.to_thread(check, "inventory", url)
