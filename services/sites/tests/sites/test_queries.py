"""Finding plots: free capacity at a date, window overlap, distance, bounding box, paging."""

from __future__ import annotations

import pytest

from shared.reference import haversine_km

EINDHOVEN_CENTRE = (51.4416, 5.4697)


@pytest.fixture
async def plots(sites):
    """Four published plots with known places, windows and sizes (and one draft that never shows)."""
    a = await sites.publish(name="A Eindhoven", capacity_units=48, available_from="2027-06-01", available_until="2039-05-31")
    b = await sites.publish(
        name="B Utrecht", gemeente_code="GM0344", location={"lat": 52.0907, "lon": 5.1214}, capacity_units=10,
        available_from="2026-01-01", available_until=None,
    )
    c = await sites.publish(
        sites.marktmeester, name="C Groningen", gemeente_code="GM0014", location={"lat": 53.2178, "lon": 6.5665},
        kind="garantiekavel", capacity_units=50, available_from="2030-01-01", available_until="2045-12-31",
        garantiekavel={"cluster_id": "GK-GR-1"},
    )
    d = await sites.publish(
        name="D Eindhoven-Oost", location={"lat": 51.45, "lon": 5.50}, capacity_units=5, available_from="2028-01-01", available_until="2040-01-01"
    )
    await sites.publish(name="E draft", status="draft")
    return {s["name"][0]: s["id"] for s in (a, b, c, d)}


async def _names(sites, query: str) -> list[str]:
    r = await sites.client.get(f"/api/v1/sites?{query}", headers=sites.anonymous)
    assert r.status_code == 200, r.text
    return [s["name"][0] for s in r.json()["data"]]


async def test_free_capacity_at_a_date(sites, plots):
    assert sorted(await _names(sites, "freeAt=2027-07-01")) == ["A", "B"]
    assert await _names(sites, "freeAt=2027-07-01&minFreeUnits=20") == ["A"]
    assert sorted(await _names(sites, "freeAt=2031-01-01&minFreeUnits=10")) == ["A", "B", "C"]
    assert await _names(sites, "freeAt=2046-01-01") == ["B"]  # only the open-ended plot is still there


async def test_window_overlap(sites, plots):
    assert sorted(await _names(sites, "availableFrom=2029-01-01&availableUntil=2029-12-31")) == ["A", "B", "D"]
    assert sorted(await _names(sites, "availableFrom=2041-01-01")) == ["B", "C"]
    assert sorted(await _names(sites, "availableUntil=2026-06-01")) == ["B"]


async def test_distance_filter_sorts_and_reports_the_distance(sites, plots):
    lat, lon = EINDHOVEN_CENTRE
    r = await sites.client.get(f"/api/v1/sites?nearLat={lat}&nearLon={lon}&withinKm=10&sort=distance", headers=sites.anonymous)
    data = r.json()["data"]
    assert [s["name"][0] for s in data] == ["A", "D"]
    assert data[0]["distance_km"] == 0.0
    expected = haversine_km(lat, lon, 51.45, 5.50)
    assert abs(data[1]["distance_km"] - expected) < 0.01
    everything = await _names(sites, f"nearLat={lat}&nearLon={lon}&sort=distance")
    assert everything == ["A", "D", "B", "C"]  # Utrecht ~75 km, Groningen ~200 km
    assert await _names(sites, f"nearLat={lat}&nearLon={lon}&withinKm=80") == ["A", "B", "D"]  # createdAt order


async def test_bounding_box_and_simple_filters(sites, plots):
    assert await _names(sites, "bbox=6.4,53.1,6.7,53.3") == ["C"]
    assert await _names(sites, "municipality=GM0772") == ["A", "D"]
    assert await _names(sites, "province=PV20") == ["C"]
    assert await _names(sites, "kind=garantiekavel") == ["C"]
    assert await _names(sites, "sort=availableFrom") == ["B", "A", "D", "C"]


@pytest.mark.parametrize("sort", ["createdAt", "availableFrom", "distance"])
async def test_cursor_pages_through_every_plot_once(sites, plots, sort):
    lat, lon = EINDHOVEN_CENTRE
    seen, cursor = [], None
    for _ in range(10):
        query = f"limit=1&sort={sort}&nearLat={lat}&nearLon={lon}" + (f"&cursor={cursor}" if cursor else "")
        page = (await sites.client.get(f"/api/v1/sites?{query}", headers=sites.anonymous)).json()
        seen += [s["id"] for s in page["data"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(plots.values())


async def test_marktmeester_sees_drafts_and_withdrawn_plots_of_everyone(sites, plots):
    await sites.client.delete(f"/api/v1/sites/{plots['B']}", headers=sites.marktmeester)
    assert await _names(sites, "") == ["A", "C", "D"]
    r = await sites.client.get("/api/v1/sites?status=withdrawn", headers=sites.marktmeester)
    assert [s["name"][0] for s in r.json()["data"]] == ["B"]
    r = await sites.client.get("/api/v1/sites?status=draft", headers=sites.marktmeester)
    assert [s["name"][0] for s in r.json()["data"]] == ["E"]
    r = await sites.client.get("/api/v1/sites?status=withdrawn", headers=sites.anonymous)
    assert r.json()["data"] == []


async def test_map_shows_published_plots_as_points(sites, plots):
    fc = (await sites.client.get("/api/v1/map/sites.geojson?province=PV30", headers=sites.anonymous)).json()
    assert {f["properties"]["name"][0] for f in fc["features"]} == {"A", "D"}
    a = next(f for f in fc["features"] if f["properties"]["site_id"] == plots["A"])
    assert a["geometry"] == {"type": "Point", "coordinates": [5.4697, 51.4416]}
    assert a["properties"]["available_until"] == "2039-05-31" and a["properties"]["status"] == "published"
