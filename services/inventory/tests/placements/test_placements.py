"""Placements: permit term limits, no unit in two overlapping placements, sequence numbers, filters."""

from __future__ import annotations

import asyncio

import pytest

from services.inventory.tests.conftest import placement_body, place, register


async def test_placement_of_a_whole_complex_emits_created_and_puts_units_in_use(inventory):
    c = await register(inventory)
    p = await place(inventory, c["id"])
    assert p["unit_count"] == 48 and len(p["unit_ids"]) == 48 and p["sequence_no"] == 1
    assert p["province_code"] == "PV25" and p["status"] == "active"  # Gelderland; today 2026-11-23 is inside the term
    [event] = await inventory.outbox("inventory.placement.created")
    assert event["data"]["placement_id"] == p["id"] and len(event["data"]["unit_ids"]) == 48
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units?limit=500", headers=inventory.headers())).json()["data"]
    assert {u["status"] for u in units} == {"in_use"}
    got = await inventory.client.get(f"/api/v1/placements/{p['id']}", headers=inventory.headers())
    assert got.status_code == 200 and got.json()["unit_ids"] == p["unit_ids"]


async def test_end_date_beyond_the_instruments_maximum_term_is_refused(inventory):
    c = await register(inventory)
    # Wro voorlopige bestemming: at most 5 years.
    body = placement_body(c["id"], instrument="wro_voorlopig", start_date="2024-01-01", end_date="2029-01-02")
    response = await inventory.client.post("/api/v1/placements", json=body, headers=inventory.headers())
    assert response.status_code == 400
    assert [p["name"] for p in response.json()["invalidParams"]] == ["end_date"]
    # Every bad field at once, nothing stored, no event.
    body = placement_body(c["id"], gemeente_code="GM9999", lat=48.0, end_date="2020-01-01", procedure_weeks=12)
    response = await inventory.client.post("/api/v1/placements", json=body, headers=inventory.headers())
    assert response.status_code == 400
    assert {p["name"] for p in response.json()["invalidParams"]} == {"gemeente_code", "lat", "lon", "end_date", "procedure_weeks"}
    assert await inventory.scalar("SELECT count(*) FROM placements") == 0
    assert await inventory.outbox("inventory.placement.created") == []
    # Exactly at the maximum is fine.
    await place(inventory, c["id"], instrument="wro_voorlopig", start_date="2024-01-01", end_date="2029-01-01")


async def test_a_unit_cannot_stand_in_two_overlapping_placements(inventory):
    c = await register(inventory, unit_count=4, min_group_size=1)
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    ids = [u["id"] for u in units]
    first = await place(inventory, c["id"], unit_ids=ids[:2])
    clash = await inventory.client.post(
        "/api/v1/placements", json=placement_body(c["id"], unit_ids=ids[1:3], start_date="2030-01-01", end_date="2034-01-01"), headers=inventory.headers()
    )
    assert clash.status_code == 409 and clash.json()["conflictingPlacements"] == [first["id"]]
    # Other units at the same time, and the same units after the term, are fine; the latter is the 2nd location.
    await place(inventory, c["id"], unit_ids=ids[2:])
    second = await place(inventory, c["id"], unit_ids=ids[:2], start_date="2033-05-31", end_date="2038-01-01")
    assert second["sequence_no"] == 2


@pytest.mark.committed  # concurrent transactions race for row locks
async def test_concurrent_placements_of_the_same_units_never_both_succeed(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    bodies = [placement_body(c["id"], start_date=f"202{n}-01-01", end_date=f"203{n}-01-01") for n in range(4)]
    responses = await asyncio.gather(*[inventory.client.post("/api/v1/placements", json=b, headers=inventory.headers()) for b in bodies])
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]
    assert await inventory.scalar("SELECT count(*) FROM placement_units") == 10


async def test_units_of_another_complex_and_other_tenants_complexes_are_refused(inventory):
    a = await register(inventory, unit_count=2, min_group_size=1)
    b = await register(inventory, unit_count=2, min_group_size=1)
    b_units = (await inventory.client.get(f"/api/v1/complexes/{b['id']}/units", headers=inventory.headers())).json()["data"]
    response = await inventory.client.post(
        "/api/v1/placements", json=placement_body(a["id"], unit_ids=[b_units[0]["id"]]), headers=inventory.headers()
    )
    assert response.status_code == 400 and response.json()["invalidParams"][0]["name"] == "unit_ids"
    other = inventory.headers(org="other-corp")
    response = await inventory.client.post("/api/v1/placements", json=placement_body(a["id"]), headers=other)
    assert response.status_code == 404


async def test_list_filters_by_expiry_date_gemeente_status_and_scope(inventory):
    c1 = await register(inventory, unit_count=2, min_group_size=1)
    c2 = await register(inventory, unit_count=3, min_group_size=1)
    c3 = await register(inventory, unit_count=1, min_group_size=1, headers=inventory.headers(org="other-corp"))
    soon = await place(inventory, c1["id"], end_date="2027-12-31")
    later = await place(inventory, c2["id"], gemeente_code="GM0363", lat=52.37, lon=4.89, start_date="2027-01-01", end_date="2036-12-31")
    await place(inventory, c3["id"], headers=inventory.headers(org="other-corp"))

    async def ids(params: dict, headers: dict | None = None) -> list[str]:
        r = await inventory.client.get("/api/v1/placements", params=params, headers=headers or inventory.headers())
        assert r.status_code == 200, r.text
        return [p["id"] for p in r.json()["data"]]

    assert await ids({}) == [soon["id"], later["id"]]  # soonest end first, own placements only
    assert await ids({"expiringBefore": "2030-01-01"}) == [soon["id"]]
    assert await ids({"gemeente": "GM0363"}) == [later["id"]]
    assert await ids({"status": "scheduled"}) == [later["id"]]
    assert await ids({"complex": c1["id"]}) == [soon["id"]]
    assert await ids({}, inventory.headers(role="municipality", org="GM0363")) == [later["id"]]
    assert len(await ids({}, inventory.marktmeester)) == 3
    first = (await inventory.client.get("/api/v1/placements", params={"limit": 1}, headers=inventory.headers())).json()
    rest = await ids({"limit": 1, "cursor": first["next_cursor"]})
    assert [p["id"] for p in first["data"]] + rest == [soon["id"], later["id"]]
    bad = await inventory.client.get("/api/v1/placements", params={"expiringBefore": "soon", "status": "x"}, headers=inventory.headers())
    assert bad.status_code == 400 and {p["name"] for p in bad.json()["invalidParams"]} == {"expiringBefore", "status"}
    other = await inventory.client.get(f"/api/v1/placements/{later['id']}", headers=inventory.headers(org="other-corp"))
    assert other.status_code == 404


async def test_placement_idempotency_key(inventory):
    c = await register(inventory)
    headers = inventory.headers(**{"Idempotency-Key": "p-1"})
    first = await inventory.client.post("/api/v1/placements", json=placement_body(c["id"]), headers=headers)
    again = await inventory.client.post("/api/v1/placements", json=placement_body(c["id"]), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json()["id"] == again.json()["id"]
    assert await inventory.scalar("SELECT count(*) FROM placements") == 1
