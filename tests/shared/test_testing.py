"""The test plugin's databases: rolled back per test by default, fresh ones when a test needs commits."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa

from shared.db import Database, database_name

PROBE = "isolation-probe"


async def _record(db: Database) -> None:
    async with db.transaction() as session:
        await session.execute(
            sa.text("INSERT INTO processed_events (consumer, event_id, event_type) VALUES (:c, :e, 'probe')"),
            {"c": PROBE, "e": uuid.uuid4()},
        )


async def _probes(db: Database) -> list[tuple[str, object]]:
    async with db.sessions() as session:
        query = sa.text("SELECT event_type, processed_at FROM processed_events WHERE consumer = :c ORDER BY processed_at")
        return [tuple(row) for row in await session.execute(query, {"c": PROBE})]


@pytest.mark.parametrize("run", [1, 2])
async def test_rows_committed_in_one_test_are_gone_in_the_next(run, databases):
    db = Database(await databases("sites"), service="probe")
    try:
        assert await _probes(db) == []  # the other run committed a row too
        await _record(db)
        with pytest.raises(RuntimeError):
            async with db.transaction() as session:
                await session.execute(sa.text("DELETE FROM processed_events"))
                raise RuntimeError("a failed unit of work rolls back to its savepoint")
        await _record(db)
        first, second = await _probes(db)  # both commits visible to later sessions of the test
        assert first[1] < second[1]  # now() advances between units of work, as with one transaction each
    finally:
        await db.dispose()


async def test_the_shared_database_is_one_per_service_and_run(databases):
    assert await databases("sites") == await databases("sites")
    assert database_name(await databases("sites")).startswith("rb_sites_")


@pytest.mark.committed
@pytest.mark.parametrize("run", [1, 2])
async def test_a_committed_database_is_empty_again_for_the_next_test(run, databases):
    db = Database(await databases("sites"), service="probe")
    try:
        assert await _probes(db) == []  # the other run committed a row too
        await _record(db)
        assert len(await _probes(db)) == 1
    finally:
        await db.dispose()


@pytest.mark.committed
async def test_a_committed_test_gets_a_database_of_its_own(databases, committed_databases):
    url = await databases("sites")
    assert database_name(url).startswith("t_sites_") and url != await committed_databases("sites")
