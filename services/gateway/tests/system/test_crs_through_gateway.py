"""The geospatial module end to end: the gateway passes Content-Crs / Accept-Crs on and Content-Crs back."""

from __future__ import annotations

from shared.domain import Role
from shared.geo import wgs84_to_rd

RD = "EPSG:28992"


async def test_a_plot_drawn_in_rd_new_round_trips_through_the_public_api(system) -> None:
    x, y = wgs84_to_rd(51.4416, 5.4697)
    square = [[x, y], [x + 80, y], [x + 80, y + 80], [x, y + 80], [x, y]]
    body = {
        "gemeente_code": "GM0772", "name": "Kavel in RD", "location": {"rd_x": x + 40, "rd_y": y + 40},
        "boundary": {"type": "Polygon", "coordinates": [square]}, "capacity_units": 20, "available_from": "2027-06-01",
    }
    municipality = system.as_(Role.municipality, "GM0772")
    created = await system.client.post("/api/v1/sites", json=body, headers={**municipality, "Content-Crs": RD, "Accept-Crs": RD})
    assert created.status_code == 201, created.text
    assert created.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/EPSG/0/28992>"
    ring = created.json()["boundary"]["coordinates"][0]
    assert all(abs(a - b) < 1.0 for got, sent in zip(ring, square, strict=True) for a, b in zip(got, sent, strict=True))

    public = await system.client.get(f"/api/v1/sites/{created.json()['id']}")
    assert public.headers["Content-Crs"] == "<http://www.opengis.net/def/crs/OGC/1.3/CRS84>"
    lon, lat = public.json()["boundary"]["coordinates"][0][0]
    assert 5.46 < lon < 5.48 and 51.43 < lat < 51.45
    refused = await system.client.get("/api/v1/map/sites.geojson", headers={"Accept-Crs": "EPSG:3857"})
    assert refused.status_code == 406 and refused.headers["content-type"].startswith("application/problem+json")
