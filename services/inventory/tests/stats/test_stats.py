"""Cross-service contracts the gateway's dashboard relies on: placement stats and the map."""

from __future__ import annotations

from services.inventory.tests.conftest import place, register


async def test_placement_stats_by_horizon_quarter_and_province(inventory):
    a = await register(inventory, unit_count=10, min_group_size=1)
    b = await register(inventory, unit_count=4, min_group_size=1)
    c = await register(inventory, unit_count=7, min_group_size=1)
    await place(inventory, a["id"], end_date="2027-02-15")  # Ede, Gelderland: Q1 2027, within 12 months
    await place(inventory, b["id"], gemeente_code="GM0363", lat=52.37, lon=4.89, end_date="2028-08-01")  # Amsterdam, Noord-Holland
    await place(inventory, c["id"], start_date="2027-06-01", end_date="2030-01-01")  # not started yet: not placed

    response = await inventory.client.get("/api/v1/stats/placements", headers=inventory.marktmeester)
    assert response.status_code == 200
    assert response.json() == {
        "today": "2026-11-23",
        "homes_placed": 14,
        "ending_within_12_months": 10,
        "ending_within_24_months": 14,
        "ending_by_quarter": [
            {"quarter": "2027-Q1", "province_code": "PV25", "homes": 10},
            {"quarter": "2028-Q3", "province_code": "PV27", "homes": 4},
        ],
    }
    assert (await inventory.client.get("/api/v1/stats/placements", headers=inventory.headers())).status_code == 403


async def test_placements_map_is_geojson_scoped_like_the_list(inventory):
    mine = await register(inventory, unit_count=3, min_group_size=1)
    theirs = await register(inventory, unit_count=2, min_group_size=1, headers=inventory.headers(org="other-corp"))
    p = await place(inventory, mine["id"])
    await place(inventory, theirs["id"], headers=inventory.headers(org="other-corp"))

    response = await inventory.client.get("/api/v1/map/placements.geojson", headers=inventory.headers())
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/geo+json")
    body = response.json()
    assert body["type"] == "FeatureCollection" and len(body["features"]) == 1
    [feature] = body["features"]
    assert feature["geometry"] == {"type": "Point", "coordinates": [5.67, 52.04]}
    assert feature["properties"] == {
        "placement_id": p["id"], "complex_id": mine["id"], "investor_org": "woonstede", "gemeente_code": "GM0228",
        "units": 3, "end_date": "2033-05-31", "status": "active",
    }
    everything = (await inventory.client.get("/api/v1/map/placements.geojson", headers=inventory.marktmeester)).json()
    assert len(everything["features"]) == 2


async def test_placements_map_speaks_rd_new_and_filters_by_an_rd_box(inventory):
    """NLGov geospatial module: `crs`/`Accept-Crs` for the answer, `bbox` in `bboxCrs`."""
    from shared.geo import wgs84_to_rd

    ede = await register(inventory, unit_count=3, min_group_size=1)
    amsterdam = await register(inventory, unit_count=2, min_group_size=1)
    p = await place(inventory, ede["id"])  # Ede (52.04, 5.67)
    await place(inventory, amsterdam["id"], gemeente_code="GM0363", lat=52.37, lon=4.89)
    x, y = wgs84_to_rd(52.04, 5.67)

    r = await inventory.client.get(
        "/api/v1/map/placements.geojson",
        params={"bbox": f"{x - 1000},{y - 1000},{x + 1000},{y + 1000}", "bboxCrs": "EPSG:28992"},
        headers={**inventory.marktmeester, "Accept-Crs": "EPSG:28992"},
    )
    assert r.status_code == 200 and r.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/28992>", r.text
    [feature] = r.json()["features"]
    assert feature["properties"]["placement_id"] == p["id"]
    got_x, got_y = feature["geometry"]["coordinates"]
    assert abs(got_x - x) < 1 and abs(got_y - y) < 1

    wgs = await inventory.client.get("/api/v1/map/placements.geojson", headers=inventory.marktmeester)
    assert wgs.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>" and len(wgs.json()["features"]) == 2
    refused = await inventory.client.get("/api/v1/map/placements.geojson", params={"crs": "EPSG:3857"}, headers=inventory.marktmeester)
    assert refused.status_code == 400 and refused.json()["invalidParams"][0]["name"] == "crs"
    degrees_as_metres = await inventory.client.get(
        "/api/v1/map/placements.geojson", params={"bbox": "4,51,6,53", "bbox-crs": "EPSG:28992"}, headers=inventory.marktmeester
    )
    assert degrees_as_metres.status_code == 400 and degrees_as_metres.json()["invalidParams"][0]["name"] == "bbox"
