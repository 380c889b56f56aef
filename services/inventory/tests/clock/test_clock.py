"""The product clock's owner: bounded moves, ClockSet through the outbox, and the matching policy it follows."""

from __future__ import annotations

import datetime as dt

import pytest

from services.inventory.app.main import create_app
from services.inventory.app.policy import service as policy
from services.inventory.tests.conftest import TODAY, place, register
from herplaatsing.testing import running_app
from shared.bus.outbox import build_event
from shared.events.models import PolicyChanged


async def _today(inventory) -> dict:
    return (await inventory.client.get("/api/v1/clock", headers=inventory.headers())).json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"today": "1999-12-31"}, "today"),
        ({"today": "2101-01-01"}, "today"),
        ({"offset_days": (dt.date(2101, 1, 1) - TODAY).days}, "offset_days"),
        ({"offset_days": (dt.date(1999, 12, 31) - TODAY).days}, "offset_days"),
        ({"offset_days": 10**9}, "offset_days"),
    ],
)
async def test_a_today_outside_2000_to_2100_is_400_naming_the_field_and_changes_nothing(inventory, body, field):
    await inventory.client.patch("/api/v1/clock", json={"offset_days": 7}, headers=inventory.marktmeester)
    before, events = await _today(inventory), await inventory.outbox("inventory.clock.set")
    r = await inventory.client.patch("/api/v1/clock", json=body, headers=inventory.marktmeester)
    assert r.status_code == 400, r.text
    assert [p["name"] for p in r.json()["invalidParams"]] == [field]
    assert await _today(inventory) == before == {"today": str(TODAY + dt.timedelta(days=7)), "offset_days": 7}
    assert await inventory.outbox("inventory.clock.set") == events


async def test_the_edges_of_the_range_are_accepted(inventory):
    for day in ("2000-01-01", "2100-12-31"):
        r = await inventory.client.patch("/api/v1/clock", json={"today": day}, headers=inventory.marktmeester)
        assert r.status_code == 200 and r.json()["today"] == day


async def test_every_move_is_told_through_the_outbox_with_a_growing_version(inventory):
    await inventory.client.patch("/api/v1/clock", json={"today": "2030-01-01"}, headers=inventory.marktmeester)
    await inventory.client.patch("/api/v1/clock", json={"offset_days": 0}, headers=inventory.marktmeester)
    first, second = [e["data"] for e in await inventory.outbox("inventory.clock.set")]
    assert first == {"today": "2030-01-01", "offset_days": (dt.date(2030, 1, 1) - TODAY).days, "set_by": "tester", "version": 1}
    assert second == {"today": str(TODAY), "offset_days": 0, "set_by": "tester", "version": 2}


async def test_a_new_app_on_the_same_database_keeps_the_clock(inventory):
    await inventory.client.patch("/api/v1/clock", json={"today": "2029-02-01"}, headers=inventory.marktmeester)
    async with running_app(create_app(inventory.settings)) as again:
        r = await again.get("/api/v1/clock", headers=inventory.headers())
    assert r.json()["today"] == "2029-02-01"


async def _policy_changed(inventory, version: int, **parameters) -> None:
    data = PolicyChanged(version=version, set_by="rvo-mm", set_at=dt.datetime(2026, 11, 23, tzinfo=dt.timezone.utc), parameters=parameters)
    handle = inventory.runtime.handlers["matching.policy.changed"]["matching.policy.changed"]
    async with inventory.runtime.transaction() as session:
        await handle(session, build_event("matching", "matching.policy.changed", version, data), data)


async def test_the_expiry_horizon_and_storage_period_follow_the_matching_policy(inventory):
    c = await register(inventory, unit_count=4, min_group_size=1)
    await place(inventory, c["id"], end_date=str(TODAY.replace(year=TODAY.year + 2) + dt.timedelta(days=40)))  # 25+ months out

    scan = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert scan["horizon_date"] == str(TODAY.replace(year=TODAY.year + 2)) and scan["expiring_emitted"] == 0

    await _policy_changed(inventory, 2, horizon_months=36, storage_gap_months=9, min_follow_up_years=10.0)
    scan = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert scan["horizon_date"] == str(TODAY.replace(year=TODAY.year + 3)) and scan["expiring_emitted"] == 1
    async with inventory.runtime.db.sessions() as session:
        assert await policy.storage_gap_months(session, inventory.runtime) == 9

    await _policy_changed(inventory, 1, horizon_months=12, storage_gap_months=3)  # an older version, redelivered late
    scan = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert scan["horizon_date"] == str(TODAY.replace(year=TODAY.year + 3))
    async with inventory.runtime.db.sessions() as session:
        assert await policy.storage_gap_months(session, inventory.runtime) == 9


async def test_a_policy_event_with_values_out_of_bounds_keeps_the_values_in_force(inventory):
    await _policy_changed(inventory, 2, horizon_months=30, storage_gap_months=8)
    await _policy_changed(inventory, 3, horizon_months=10**9, storage_gap_months="six")
    async with inventory.runtime.db.sessions() as session:
        assert await policy.horizon_months(session, inventory.runtime) == 30
        assert await policy.storage_gap_months(session, inventory.runtime) == 8
