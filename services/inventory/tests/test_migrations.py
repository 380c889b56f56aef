"""The inventory's Alembic history matches its models and runs down and up again."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from herplaatsing.migrations import check, downgrade, upgrade
from shared.db import async_url


async def test_models_match_migrations_and_downgrade_upgrade_round_trips(committed_databases):
    url = await committed_databases("inventory")
    await asyncio.to_thread(check, "inventory", url)  # raises on drift
    await asyncio.to_thread(downgrade, "inventory", url, "base")
    await asyncio.to_thread(upgrade, "inventory", url)
    await asyncio.to_thread(check, "inventory", url)



async def test_the_lifecycle_migration_back_fills_existing_placements(committed_databases):
    """0003 gives every existing placement the lifecycle its signals and plan say, and a storage period."""
    url = await committed_databases("inventory")
    await asyncio.to_thread(downgrade, "inventory", url, "0002")
    engine = create_async_engine(async_url(url))
    complex_id = uuid.uuid4()
    rows = {  # lifecycle it should get: (relocation planned, expiring signalled, ended signalled)
        "active": (False, False, False),
        "expiring": (False, True, False),
        "in_storage": (False, True, True),
        "relocation_scheduled": (True, True, False),
        "relocated": (True, True, True),
        "scheduled": (False, False, False),  # a follow-up placement that has not begun
    }
    ids = {name: uuid.uuid4() for name in rows}
    signalled = dt.datetime(2027, 4, 1, tzinfo=dt.timezone.utc)
    async with engine.begin() as conn:
        await conn.execute(
            sa.text(
                "INSERT INTO complexes (id, short_code, investor_org, name, unit_count, typology, layers, floor_area_m2, bedrooms,"
                " modules_per_unit, zelfstandig, bbl_level, composition_changed, beng_compliant, technical_lifetime_yr,"
                " depreciation_yr, min_group_size, doelgroepen) VALUES (:id, 'MIG', 'woonstede', 'm', 5, 'gestapeld', 1, 30, 1,"
                " 1, true, 'nieuwbouw', false, true, 50, 30, 1, '{}')"
            ),
            {"id": complex_id},
        )
        for n, (name, (relocated, expiring, ended)) in enumerate(rows.items()):
            await conn.execute(
                sa.text(
                    "INSERT INTO placements (id, complex_id, investor_org, gemeente_code, province_code, lat, lon, instrument,"
                    " restore_obligation, start_date, end_date, sequence_no, unit_count, relocation_id, expiring_emitted_at,"
                    " ended_emitted_at, created_by_relocation_id) VALUES (:id, :c, 'woonstede', 'GM0228', 'PV25', 52, 5.6,"
                    " 'wabo_bor4_11', false, :start, :end, 1, 1, :reloc, :exp, :ended, :made_by)"
                ),
                {
                    "id": ids[name], "c": complex_id, "made_by": uuid.uuid4() if name == "scheduled" else None,
                    "start": dt.date(2098 if name == "scheduled" else 2020, n + 1, 1),
                    "end": dt.date(2099 if name == "scheduled" else 2027, 3, 31),
                    "reloc": uuid.uuid4() if relocated else None,
                    "exp": signalled if expiring else None, "ended": signalled if ended else None,
                },
            )
    await asyncio.to_thread(upgrade, "inventory", url)
    async with engine.connect() as conn:
        found = {
            r[0]: (r[1], r[2], r[3])
            for r in await conn.execute(sa.text("SELECT id, lifecycle, storage_until, version FROM placements"))
        }
    await engine.dispose()
    assert {name: found[ids[name]][0] for name in rows} == {name: name for name in rows}
    assert found[ids["in_storage"]][1:] == (dt.date(2027, 9, 30), 1) and found[ids["active"]][1] is None
