"""The expiry signal: exactly once per placement, also under concurrent scans and two replicas."""

from __future__ import annotations

import asyncio
import datetime as dt

import nats
import orjson
import pytest

from herplaatsing.testing import running_app
from services.inventory.app.expiry.service import scan
from services.inventory.app.main import create_app
from services.inventory.tests.conftest import Inventory, place, register


async def _placements(inventory, count: int, end_date: str = "2027-06-30") -> list[dict]:
    c = await register(inventory, unit_count=count, min_group_size=1)
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units?limit=500", headers=inventory.headers())).json()["data"]
    return [await place(inventory, c["id"], unit_ids=[u["id"]], end_date=end_date) for u in units]


async def test_scan_emits_expiring_once_within_the_horizon_with_the_full_complex_spec(inventory):
    c = await register(inventory)
    soon = await place(inventory, c["id"], end_date="2028-11-23")  # exactly today + 24 months
    other = await register(inventory, unit_count=5, min_group_size=1)
    await place(inventory, other["id"], end_date="2028-11-24")  # one day beyond the horizon

    response = await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)
    assert response.status_code == 200
    assert response.json() | {"units_settled": 0} == {
        "today": "2026-11-23", "horizon_date": "2028-11-23", "expiring_emitted": 1, "ended_emitted": 0,
        "fallback_emitted": 0, "started_emitted": 0, "units_settled": 0,
    }
    [event] = await inventory.outbox("inventory.placement.expiring")
    data = event["data"]
    assert data["placement_id"] == soon["id"] and data["detected_on"] == "2026-11-23" and data["province_code"] == "PV25"
    assert data["complex"]["complex_id"] == c["id"] and data["complex"]["rthf"]["garantiebedrag_eur_per_unit"] == 62_000
    assert data["complex"]["bbl_level"] == "nieuwbouw" and len(data["unit_ids"]) == 48

    again = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert again["expiring_emitted"] == 0 and len(await inventory.outbox("inventory.placement.expiring")) == 1
    listed = (await inventory.client.get("/api/v1/placements", params={"status": "expiring"}, headers=inventory.headers())).json()
    assert [p["id"] for p in listed["data"]] == [soon["id"]]
    assert (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.headers())).status_code == 403


@pytest.mark.committed  # concurrent sessions
async def test_concurrent_scans_on_separate_sessions_emit_each_signal_once(inventory):
    inventory.settings.expiry_scan_batch_size = 3  # many small claims interleave between the scans
    placed = await _placements(inventory, 20)
    results = await asyncio.gather(*[scan(inventory.runtime) for _ in range(6)])
    assert sum(r.expiring_emitted for r in results) == 20
    events = await inventory.outbox("inventory.placement.expiring")
    assert sorted(e["data"]["placement_id"] for e in events) == sorted(p["id"] for p in placed)


@pytest.mark.committed  # concurrent sessions
async def test_two_app_instances_scanning_at_once_emit_each_signal_once(inventory):
    placed = await _placements(inventory, 12)
    second = create_app(inventory.settings.model_copy(update={"expiry_scan_batch_size": 2}))
    inventory.settings.expiry_scan_batch_size = 2
    async with running_app(second) as other_client:
        responses = await asyncio.gather(
            *[client.post("/api/v1/expiry-scans", headers=inventory.marktmeester) for client in [inventory.client, other_client] * 3]
        )
    assert all(r.status_code == 200 for r in responses)
    assert sum(r.json()["expiring_emitted"] for r in responses) == 12
    events = await inventory.outbox("inventory.placement.expiring")
    assert sorted(e["data"]["placement_id"] for e in events) == sorted(p["id"] for p in placed)


async def test_moving_the_clock_past_the_end_date_emits_ended_once_and_stores_the_homes(inventory):
    c = await register(inventory, unit_count=3, min_group_size=1)
    p = await place(inventory, c["id"], end_date="2031-03-31")
    assert (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()["expiring_emitted"] == 0

    moved = await inventory.client.patch("/api/v1/clock", json={"today": "2031-04-01"}, headers=inventory.marktmeester)
    assert moved.status_code == 200 and moved.json() == {"today": "2031-04-01", "offset_days": (dt.date(2031, 4, 1) - dt.date(2026, 11, 23)).days}
    assert (await inventory.client.get("/api/v1/clock", headers=inventory.headers())).json()["today"] == "2031-04-01"
    assert (await inventory.client.patch("/api/v1/clock", json={"offset_days": 1}, headers=inventory.headers())).status_code == 403
    bad = await inventory.client.patch("/api/v1/clock", json={"offset_days": 1, "today": "2030-01-01"}, headers=inventory.marktmeester)
    assert bad.status_code == 400

    # the move itself ran the scan it implies: expiring and ended are out already, a scan finds nothing more
    assert len(await inventory.outbox("inventory.placement.expiring")) == 1
    result = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert result["expiring_emitted"] == 0 and result["ended_emitted"] == 0
    [ended] = await inventory.outbox("inventory.placement.ended")
    assert ended["data"] == {
        "placement_id": p["id"], "complex_id": c["id"], "investor_org": "woonstede", "end_date": "2031-03-31", "relocated": False, "unit_count": 3,
        "unit_ids": p["unit_ids"], "storage_until": "2031-09-30",  # in storage for the 6-month storage gap
    }
    again = (await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)).json()
    assert again["ended_emitted"] == 0 and again["expiring_emitted"] == 0
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    assert {u["status"] for u in units} == {"stored"}
    got = (await inventory.client.get(f"/api/v1/placements/{p['id']}", headers=inventory.headers())).json()
    assert (got["status"], got["lifecycle"], got["storage_since"]) == ("ended", "in_storage", "2031-03-31")


@pytest.mark.committed  # the relay publishes from its own connection
async def test_background_scan_publishes_the_expiring_event_on_the_bus(inventory_settings):
    settings = inventory_settings.model_copy(update={"start_background": True, "expiry_scan_interval_s": 0.2})
    nc = await nats.connect(settings.nats_url)
    app = create_app(settings)
    # Relay and scan loop only: a running pull consumer can stall shutdown for nats-py's 30 s drain timeout.
    app.state.runtime.handlers = {}
    async with running_app(app) as client:
        inv = Inventory(client, settings, app.state.runtime, app)
        c = await register(inv, unit_count=2, min_group_size=1)
        p = await place(inv, c["id"], end_date="2027-01-31")
        await asyncio.wait_for(app.state.runtime.nats_ready.wait(), 10)
        sub = await nc.jetstream().subscribe(settings.subject("inventory.placement.expiring"), stream=settings.stream_name, ordered_consumer=True)
        msg = await sub.next_msg(timeout=10)
        event = orjson.loads(msg.data)
        assert event["type"] == "inventory.placement.expiring" and event["data"]["placement_id"] == p["id"]
        assert msg.headers["Nats-Msg-Id"] == event["id"]
    await nc.close()
