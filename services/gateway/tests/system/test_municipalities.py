"""The public municipality list through the gateway, served by the real sites service:
all 342 CBS gemeenten, paginated, filterable by province."""

from __future__ import annotations


async def test_pages_through_all_342_municipalities_in_code_order(system) -> None:
    codes, cursor = [], None
    while True:
        r = await system.client.get("/api/v1/municipalities", params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        assert r.status_code == 200
        page = r.json()
        codes += [m["code"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(codes) == 342 and codes == sorted(codes) and len(set(codes)) == 342

    r = await system.client.get("/api/v1/municipalities", params={"province": "PV30", "limit": 500})
    data = r.json()["data"]
    assert data and all(m["province_code"] == "PV30" for m in data)
    assert "GM0772" in {m["code"] for m in data}
    r = await system.client.get("/api/v1/municipalities/GM0772")
    assert r.status_code == 200
    assert r.json() | {"centroid": None} == {
        "code": "GM0772", "name": "Eindhoven", "province_code": "PV30", "province_name": "Noord-Brabant", "centroid": None
    }


async def test_invalid_input_names_every_field_and_unknown_code_is_404(system) -> None:
    r = await system.client.get("/api/v1/municipalities", params={"province": "PV99"})
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "province"
    r = await system.client.get("/api/v1/municipalities", params={"limit": 0, "cursor": "x" * 1001})
    assert r.status_code == 400
    assert {p["name"] for p in r.json()["invalidParams"]} == {"limit", "cursor"}
    r = await system.client.get("/api/v1/municipalities", params={"cursor": "not-ours"})
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "cursor"
    assert (await system.client.get("/api/v1/municipalities/GM9999")).status_code == 404
    r = await system.client.get("/api/v1/municipalities/eindhoven")
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "code"
