"""The registry of organisations: the marktmeester registers, changes and deactivates investors;
municipalities (CBS) are listed in the same shape, read-only; anyone with a role reads."""

from __future__ import annotations

from typing import Any

import pytest

BODY = {"id": "wc-woonbron", "name": "Woonbron", "kvk_number": "24227093", "kind": "woningcorporatie",
        "contact_email": "flexwonen@woonbron.nl", "contact_phone": "010 4398000"}


async def register(inventory, **overrides: Any):  # noqa: ANN001, ANN201
    return await inventory.client.post("/api/v1/organisations", json={**BODY, **overrides}, headers=inventory.marktmeester)


async def test_the_marktmeester_registers_an_investor_that_everyone_can_read(inventory) -> None:
    r = await register(inventory)
    assert r.status_code == 201, r.text
    assert r.headers["Location"] == "/api/v1/organisations/wc-woonbron"
    assert r.json() == {**BODY, "role": "investor", "active": True, "version": 1}
    for headers in (inventory.headers(), inventory.headers("municipality", "GM0363"), inventory.marktmeester):
        got = await inventory.client.get("/api/v1/organisations/wc-woonbron", headers=headers)
        assert got.status_code == 200 and got.json()["kvk_number"] == "24227093" and got.headers["ETag"] == '"1"'
    assert (await inventory.client.get("/api/v1/organisations/wc-woonbron")).status_code == 401


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"kvk_number": "1234567"}, "kvk_number"),
        ({"kvk_number": "12345678a"}, "kvk_number"),
        ({"kvk_number": 24227093}, "kvk_number"),
        ({"kind": "gemeente"}, "kind"),
        ({"kind": "bank"}, "kind"),
        ({"id": "GM0363"}, "id"),
        ({"id": "wc woonbron"}, "id"),
        ({"contact_email": "not-an-address"}, "contact_email"),
        ({"contact_phone": "call me"}, "contact_phone"),
        ({"name": ""}, "name"),
        ({"founded": 1900}, "founded"),
    ],
)
async def test_bad_input_is_a_400_naming_the_field_and_stores_nothing(inventory, overrides, field) -> None:
    r = await register(inventory, **overrides)
    assert r.status_code == 400, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert [p["name"] for p in r.json()["invalidParams"]] == [field]
    assert await inventory.scalar("SELECT count(*) FROM organisations") == 0


@pytest.mark.parametrize("org_id", ["-x", "wc%20woonbron", "%C3%A9", "a", "x" * 101])
async def test_an_id_in_the_path_that_no_organisation_can_have_is_a_400_naming_it(inventory, org_id) -> None:
    assert (await register(inventory)).status_code == 201
    for method, body in (("GET", None), ("PATCH", {"active": False})):
        r = await inventory.client.request(method, f"/api/v1/organisations/{org_id}", json=body, headers=inventory.marktmeester)
        assert r.status_code == 400, r.text
        assert [(p["name"], p["in"]) for p in r.json()["invalidParams"]] == [("id", "path")]
    assert (await inventory.client.get("/api/v1/organisations/wc-woonbron", headers=inventory.marktmeester)).json()["active"] is True
    assert (await inventory.client.get("/api/v1/organisations/GM0363", headers=inventory.marktmeester)).status_code == 200
    assert (await inventory.client.get("/api/v1/organisations/no-such-org", headers=inventory.marktmeester)).status_code == 404


async def test_id_and_kvk_number_are_unique(inventory) -> None:
    assert (await register(inventory)).status_code == 201
    r = await register(inventory)
    assert r.status_code == 409 and "wc-woonbron is already registered" in r.json()["detail"]
    r = await register(inventory, id="wc-woonbron-2")
    assert r.status_code == 409 and "KvK number 24227093 is already registered for organisation wc-woonbron" in r.json()["detail"]
    assert await inventory.scalar("SELECT count(*) FROM organisations") == 1


async def test_only_the_marktmeester_registers_and_changes(inventory) -> None:
    r = await inventory.client.post("/api/v1/organisations", json=BODY, headers=inventory.headers())
    assert r.status_code == 403
    assert (await register(inventory)).status_code == 201
    r = await inventory.client.patch("/api/v1/organisations/wc-woonbron", json={"active": False}, headers=inventory.headers())
    assert r.status_code == 403


async def test_deactivate_with_if_match_keeps_the_organisation_and_a_stale_version_is_refused(inventory) -> None:
    assert (await register(inventory)).status_code == 201
    url = "/api/v1/organisations/wc-woonbron"
    r = await inventory.client.patch(url, json={"active": False}, headers={**inventory.marktmeester, "If-Match": '"1"'})
    assert r.status_code == 200 and r.json()["active"] is False and r.json()["version"] == 2 and r.headers["ETag"] == '"2"'
    r = await inventory.client.patch(url, json={"contact_phone": "+31 10 439 8000"}, headers={**inventory.marktmeester, "If-Match": '"1"'})
    assert r.status_code == 412
    assert (await inventory.client.get(url, headers=inventory.marktmeester)).json()["contact_phone"] == "010 4398000"
    r = await inventory.client.patch(url, json={"name": None}, headers=inventory.marktmeester)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "name"
    deactivated = await inventory.client.get("/api/v1/organisations?role=investor&active=false", headers=inventory.marktmeester)
    assert [o["id"] for o in deactivated.json()["data"]] == ["wc-woonbron"]
    r = await inventory.client.get("/api/v1/organisations?role=investor&active=true", headers=inventory.marktmeester)
    assert r.json()["data"] == []


async def test_municipalities_are_listed_read_only(inventory) -> None:
    got = await inventory.client.get("/api/v1/organisations/GM0363", headers=inventory.headers())
    assert got.status_code == 200
    assert got.json() == {"id": "GM0363", "role": "municipality", "name": "Amsterdam", "kvk_number": None, "kind": "gemeente",
                          "contact_email": None, "contact_phone": None, "active": True, "version": 1}
    r = await inventory.client.patch("/api/v1/organisations/GM0363", json={"active": False}, headers=inventory.marktmeester)
    assert r.status_code == 409
    assert (await inventory.client.get("/api/v1/organisations/wc-unknown", headers=inventory.headers())).status_code == 404
    assert (await inventory.client.get("/api/v1/organisations?role=municipality&active=false", headers=inventory.headers())).json()["data"] == []


async def test_the_listing_pages_through_investors_and_municipalities_in_one_order(inventory) -> None:
    for n, org in enumerate(["gem-GM0200", "bl-vesteda", "wc-ymere", "Zeeland-wonen"]):
        assert (await register(inventory, id=org, kvk_number=f"1000000{n}", kind="belegger")).status_code == 201
    seen, cursor = [], None
    while True:
        params = {"limit": 50, **({"cursor": cursor} if cursor else {})}
        page = (await inventory.client.get("/api/v1/organisations", params=params, headers=inventory.headers())).json()
        assert len(page["data"]) <= 50
        seen += [o["id"] for o in page["data"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 342 + 4
    assert seen == sorted(seen)  # bytewise: GM codes, then the mixed-case ids
    assert {"gem-GM0200", "bl-vesteda", "wc-ymere", "Zeeland-wonen"} <= set(seen)
    r = await inventory.client.get("/api/v1/organisations?cursor=nonsense", headers=inventory.headers())
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "cursor"
