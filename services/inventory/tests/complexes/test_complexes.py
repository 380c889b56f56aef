"""Registering complexes with their units: validation, scoping, idempotency, the event."""

from __future__ import annotations

from services.inventory.tests.conftest import INVESTOR, complex_body, place, register


async def test_register_creates_all_units_with_serials_and_emits_the_full_spec(inventory):
    created = await register(inventory, short_code="RVB17")
    assert created["investor_org"] == INVESTOR and created["unit_count"] == 48 and created["technical_lifetime_yr"] == 50

    page = await inventory.client.get(f"/api/v1/complexes/{created['id']}/units?limit=500", headers=inventory.headers())
    units = page.json()["data"]
    assert [u["serial"] for u in units[:2]] == ["RVB17-001", "RVB17-002"] and units[-1]["serial"] == "RVB17-048"
    assert len(units) == 48 and {u["status"] for u in units} == {"stored"}

    [event] = await inventory.outbox("inventory.complex.registered")
    assert event["subject"] == created["id"]
    assert event["data"]["rthf"]["garantiebedrag_eur_per_unit"] == 62_000
    assert event["data"]["layers"] == 3 and event["data"]["short_code"] == "RVB17" and event["data"]["min_group_size"] == 12


async def test_bad_input_names_every_field_and_stores_nothing(inventory):
    body = complex_body(unit_count=501, layers=5, floor_area_m2=10, bedrooms=5, technical_lifetime_yr=80, build_cost_eur_per_unit=10)
    response = await inventory.client.post("/api/v1/complexes", json=body, headers=inventory.headers())
    assert response.status_code == 400
    assert response.headers["content-type"].startswith("application/problem+json")
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert {"unit_count", "layers", "floor_area_m2", "bedrooms", "technical_lifetime_yr", "build_cost_eur_per_unit"} <= names

    # Domain rules are collected together too.
    body = complex_body(modules_per_unit=1.3, min_group_size=60, rent_eur_month=900, zelfstandig=False)
    response = await inventory.client.post("/api/v1/complexes", json=body, headers=inventory.headers())
    assert response.status_code == 400
    names = {p["name"] for p in response.json()["invalidParams"]}
    assert names == {"modules_per_unit", "min_group_size", "rent_eur_month", "zelfstandig"}

    assert await inventory.scalar("SELECT count(*) FROM complexes") == 0
    assert await inventory.scalar("SELECT count(*) FROM units") == 0
    assert await inventory.outbox() == []


async def test_rthf_homes_need_social_rent_unless_they_house_ontheemden(inventory):
    response = await inventory.client.post("/api/v1/complexes", json=complex_body(rent_eur_month=None), headers=inventory.headers())
    assert response.status_code == 400 and response.json()["invalidParams"][0]["name"] == "rent_eur_month"
    await register(inventory, rent_eur_month=None, doelgroepen=["ontheemden"])


async def test_idempotency_key_replays_the_first_response_and_refuses_another_body(inventory):
    headers = inventory.headers(**{"Idempotency-Key": "reg-1"})
    first = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=headers)
    again = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert await inventory.scalar("SELECT count(*) FROM complexes") == 1
    assert len(await inventory.outbox("inventory.complex.registered")) == 1

    other = await inventory.client.post("/api/v1/complexes", json=complex_body(name="other"), headers=headers)
    assert other.status_code == 422


async def test_tenants_see_only_their_own_complexes(inventory):
    mine = await register(inventory)
    theirs = await register(inventory, headers=inventory.headers(org="other-corp"))
    listed = await inventory.client.get("/api/v1/complexes", headers=inventory.headers())
    assert [c["id"] for c in listed.json()["data"]] == [mine["id"]]
    assert (await inventory.client.get(f"/api/v1/complexes/{theirs['id']}", headers=inventory.headers())).status_code == 404
    assert (await inventory.client.get(f"/api/v1/complexes/{theirs['id']}/units", headers=inventory.headers())).status_code == 404

    # A municipality sees a complex once it stands in its gemeente; the marktmeester sees all.
    ede = inventory.headers(role="municipality", org="GM0228")
    assert (await inventory.client.get("/api/v1/complexes", headers=ede)).json()["data"] == []
    await place(inventory, mine["id"])
    assert [c["id"] for c in (await inventory.client.get("/api/v1/complexes", headers=ede)).json()["data"]] == [mine["id"]]
    assert len((await inventory.client.get("/api/v1/complexes", headers=inventory.marktmeester)).json()["data"]) == 2


async def test_marktmeester_registers_on_behalf_of_an_org_and_lists_paginate(inventory):
    response = await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=inventory.marktmeester)
    assert response.status_code == 400 and response.json()["invalidParams"][0]["name"] == "investor_org"
    for n in range(3):
        await register(inventory, headers=inventory.marktmeester, investor_org="corp-a", name=f"c{n}")
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "investorOrg": "corp-a", **({"cursor": cursor} if cursor else {})}
        page = (await inventory.client.get("/api/v1/complexes", params=params, headers=inventory.marktmeester)).json()
        seen += [c["name"] for c in page["data"]]
        cursor = page["next_cursor"]
        if not cursor:
            break
    assert seen == ["c0", "c1", "c2"]


async def test_calls_without_internal_identity_or_with_the_wrong_role_are_refused(inventory):
    assert (await inventory.client.get("/api/v1/complexes")).status_code == 401
    ede = inventory.headers(role="municipality", org="GM0228")
    assert (await inventory.client.post("/api/v1/complexes", json=complex_body(), headers=ede)).status_code == 403


async def test_duplicate_short_code_is_a_conflict(inventory):
    await register(inventory, short_code="LOT1")
    response = await inventory.client.post("/api/v1/complexes", json=complex_body(short_code="LOT1"), headers=inventory.headers())
    assert response.status_code == 409


async def test_a_complex_carries_an_etag_that_names_its_representation(inventory):
    a = await register(inventory)
    b = await register(inventory, short_code="RVB18", rent_eur_month=700.0)
    first = await inventory.client.get(f"/api/v1/complexes/{a['id']}", headers=inventory.headers())
    again = await inventory.client.get(f"/api/v1/complexes/{a['id']}", headers=inventory.marktmeester)
    other = await inventory.client.get(f"/api/v1/complexes/{b['id']}", headers=inventory.headers())
    assert first.status_code == again.status_code == other.status_code == 200
    tag = first.headers["ETag"]
    assert tag.startswith('"') and tag.endswith('"') and len(tag) > 2
    assert again.headers["ETag"] == tag  # the same representation, whoever asks
    assert other.headers["ETag"] != tag
