"""Across services: inventory's real lifecycle events (a clock jump past the end, past storage; an end state)
reach the matching service through the stream, and its home ledger and demand follow (issue #12)."""

from __future__ import annotations

import datetime as dt
from contextlib import AsyncExitStack

import pytest

from herplaatsing.testing import eventually, headers_for, running_app
from services.inventory.app.config import InventorySettings
from services.inventory.app.main import create_app as create_inventory
from services.inventory.tests.conftest import Inventory, place, register
from services.matching.app.config import MatchingSettings
from services.matching.app.main import create_app as create_matching
from shared.domain import HomeState, Role

TODAY = dt.date(2026, 11, 23)


@pytest.fixture
async def both(committed_databases, make_settings):
    inventory_settings = make_settings(InventorySettings, database_url=await committed_databases("inventory"), today=TODAY,
                                       outbox_poll_interval_s=0.05, expiry_scan_interval_s=3600)
    matching_settings = make_settings(MatchingSettings, database_url=await committed_databases("matching"), today=TODAY,
                                      consumer_fetch_timeout_s=0.2, outbox_poll_interval_s=0.05)
    async with AsyncExitStack() as stack:
        inventory_app = create_inventory(inventory_settings)
        inv_client = await stack.enter_async_context(running_app(inventory_app))
        matching_client = await stack.enter_async_context(running_app(create_matching(matching_settings)))
        yield Inventory(inv_client, inventory_settings, inventory_app.state.runtime, inventory_app), matching_client, matching_settings


async def _ledger_shows(client, settings, **states: int) -> dict:
    want = {s.value: 0 for s in HomeState} | states

    async def check():
        body = (await client.get("/api/v1/ledger", headers=headers_for(settings, Role.marktmeester))).json()
        assert body["registered"] == body["accounted"] == sum(body["by_state"].values())
        return body["by_state"] == want and body
    return await eventually(check, timeout=20)


async def _jump(inventory: Inventory, today: str) -> dict:
    r = await inventory.client.patch("/api/v1/clock", json={"today": today}, headers=inventory.marktmeester)
    assert r.status_code == 200, r.text
    r = await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)
    assert r.status_code == 200, r.text
    return r.json()


async def test_a_clock_jump_stores_the_homes_as_demand_then_falls_back_and_an_end_state_closes(both):
    inventory, matching, settings = both
    stored = await register(inventory, unit_count=3, min_group_size=1)
    sold = await register(inventory, unit_count=2, min_group_size=1)
    soon = await place(inventory, stored["id"], end_date="2027-06-30")
    later = await place(inventory, sold["id"], end_date="2032-06-30")
    await _ledger_shows(matching, settings, in_place=5)

    await _jump(inventory, "2026-11-24")  # the scan signals the first placement as expiring
    await _ledger_shows(matching, settings, in_place=2, expiring=3)

    # past the end, inside the storage period: stored, still demand (national runs see it)
    await _jump(inventory, "2027-08-01")
    body = await _ledger_shows(matching, settings, in_place=2, in_storage=3)
    assert body["shortfall"] == 3
    mm = headers_for(settings, Role.marktmeester)
    run = (await matching.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})).json()
    assert run["demand_units"] == 3

    # past the longest storage period: the RTHF fallback; no longer matched
    await _jump(inventory, "2028-01-15")
    await _ledger_shows(matching, settings, in_place=2, fallback=3)
    run = (await matching.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})).json()
    assert run["demand_units"] == 0

    # the investor sells the other complex's homes: they leave the books
    r = await inventory.client.post(f"/api/v1/placements/{later['id']}/end-state", headers=inventory.headers(),
                                    json={"end_state": "sold", "reason": "verkocht aan corporatie"})
    assert r.status_code in (200, 201), r.text
    body = await _ledger_shows(matching, settings, fallback=3, sold=2)
    assert body["left_books"] == 2 and body["registered"] == 5
    assert soon["id"] != later["id"]
