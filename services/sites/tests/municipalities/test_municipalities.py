"""The municipality list: all 342 CBS gemeenten, public, filterable by province, paged."""

from __future__ import annotations


async def test_all_342_gemeenten_are_listed_once_in_pages(sites):
    codes, cursor = [], None
    while True:
        url = "/api/v1/municipalities?limit=100" + (f"&cursor={cursor}" if cursor else "")
        page = (await sites.client.get(url, headers=sites.anonymous)).json()
        codes += [m["code"] for m in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(codes) == 342 == len(set(codes))
    assert codes == sorted(codes)


async def test_filter_by_province_and_get_one(sites):
    page = (await sites.client.get("/api/v1/municipalities?province=PV20&limit=500", headers=sites.anonymous)).json()
    assert page["data"] and all(m["province_code"] == "PV20" and m["province_name"] == "Groningen" for m in page["data"])
    assert "GM0014" in {m["code"] for m in page["data"]}
    r = await sites.client.get("/api/v1/municipalities/GM0772", headers=sites.anonymous)
    assert r.status_code == 200
    assert r.json()["name"] == "Eindhoven" and r.json()["province_code"] == "PV30"
    assert abs(r.json()["centroid"]["lat"] - 51.44) < 0.1


async def test_unknown_municipality_or_province(sites):
    assert (await sites.client.get("/api/v1/municipalities/GM9999", headers=sites.anonymous)).status_code == 404
    r = await sites.client.get("/api/v1/municipalities?province=PV99", headers=sites.anonymous)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "province"
    assert (await sites.client.get("/api/v1/municipalities/eindhoven", headers=sites.anonymous)).status_code == 400
