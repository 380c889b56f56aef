"""The Alembic history matches the models, back-fills the committed parts, and can be rolled back."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg

from herplaatsing.migrations import check, downgrade, upgrade


def _dsn(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://")


async def test_models_and_migrations_do_not_drift_and_0005_backfills_committed_parts(committed_databases):
    url = await committed_databases("matching")
    await asyncio.to_thread(check, "matching", url)  # raises when autogenerate would find differences
    await asyncio.to_thread(downgrade, "matching", url, "0004")
    placement = uuid.uuid4()
    conn = await asyncpg.connect(_dsn(url))
    try:
        await conn.execute(
            "INSERT INTO placements (placement_id, complex_id, investor_org, gemeente_code, province_code, lat, lon,"
            " instrument, start_date, end_date, unit_count, demand_status, shortfall_units, excluded_sites,"
            " declined_allocations) VALUES ($1, $2, 'woonstad', 'GM0200', 'PV25', 52.2, 5.9, 'wabo_bor4_11',"
            " '2017-06-30', '2027-06-30', 20, 'waiting', 8, '[]', '[]')", placement, uuid.uuid4())
        for status, units, short in (("accepted", 20, 8), ("declined", 20, 0)):
            await conn.execute(
                "INSERT INTO proposals (id, placement_id, complex_id, investor_org, status, unit_count, shortfall_units,"
                " rung, cost, binding_constraints, alternatives, parties, acceptances, move_window_start, expires_at,"
                " created_at) VALUES ($1, $2, $3, 'woonstad', $4, $5, $6, 'gemeente', '{}', '[]', '[]', '[]', '[]',"
                " '2027-06-30', now(), now())", uuid.uuid4(), placement, uuid.uuid4(), status, units, short)
    finally:
        await conn.close()
    await asyncio.to_thread(upgrade, "matching", url)
    conn = await asyncpg.connect(_dsn(url))
    try:
        # the accepted proposal housed 12 of 20: those are committed, 8 remain demand
        assert await conn.fetchval("SELECT committed_units FROM placements WHERE placement_id = $1", placement) == 12
    finally:
        await conn.close()
    await asyncio.to_thread(downgrade, "matching", url, "base")
    await asyncio.to_thread(upgrade, "matching", url)
    await asyncio.to_thread(check, "matching", url)
