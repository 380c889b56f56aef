"""NLGov geospatial module on plots and the plot map: RD New in and out through Content-Crs / Accept-Crs / crs / bboxCrs."""

from __future__ import annotations

import pytest

from services.sites.tests.conftest import plot
from shared.geo import Crs, rd_to_wgs84, wgs84_to_rd

RD = "EPSG:28992"
RD_URI = "http://www.opengis.net/def/crs/EPSG/0/28992"
# A ~100 m x 100 m plot in Eindhoven, drawn in RD New metres (the municipality's own drawing system).
X0, Y0 = wgs84_to_rd(51.4416, 5.4697)
RD_SQUARE = [[X0, Y0], [X0 + 100, Y0], [X0 + 100, Y0 + 100], [X0, Y0 + 100], [X0, Y0]]


def _close(a: list[float], b: list[float], metres: float) -> bool:
    return abs(a[0] - b[0]) <= metres and abs(a[1] - b[1]) <= metres


async def _publish_rd(sites) -> dict:
    body = plot(boundary={"type": "Polygon", "coordinates": [RD_SQUARE]})
    r = await sites.client.post("/api/v1/sites", json=body, headers={**sites.municipality(), "Content-Crs": RD})
    assert r.status_code == 201, r.text
    return r.json()


async def test_a_boundary_in_rd_new_is_accepted_and_stored_in_wgs84(sites):
    site = await _publish_rd(sites)
    ring = site["boundary"]["coordinates"][0]  # answered in WGS84: no Accept-Crs
    lat, lon = rd_to_wgs84(X0, Y0)
    assert abs(ring[0][0] - lon) < 1e-6 and abs(ring[0][1] - lat) < 1e-6
    assert 0.95 < site["area_ha"] < 1.05  # 100 m x 100 m measured in RD metres


async def test_rd_new_round_trips_through_accept_crs_within_a_metre(sites):
    site = await _publish_rd(sites)
    r = await sites.client.get(f"/api/v1/sites/{site['id']}", headers={**sites.anonymous, "Accept-Crs": RD_URI})
    assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{RD_URI}>"
    ring = r.json()["boundary"]["coordinates"][0]
    assert all(_close(got, sent, 1.0) for got, sent in zip(ring, RD_SQUARE, strict=True))
    wgs = await sites.client.get(f"/api/v1/sites/{site['id']}", headers=sites.anonymous)
    assert wgs.headers["Content-Crs"] == f"<{Crs.wgs84.value}>" and wgs.json()["boundary"] == site["boundary"]


async def test_the_plot_map_answers_in_rd_new_when_asked_by_parameter_or_header(sites):
    site = await _publish_rd(sites)
    point = await sites.publish(location={"rd_x": X0 + 500, "rd_y": Y0 + 500})
    for query, headers in ((f"?crs={RD_URI}", {}), ("", {"Accept-Crs": RD})):
        r = await sites.client.get(f"/api/v1/map/sites.geojson{query}", headers={**sites.anonymous, **headers})
        assert r.status_code == 200 and r.headers["Content-Crs"] == f"<{RD_URI}>", r.text
        features = {f["id"]: f["geometry"] for f in r.json()["features"]}
        assert all(_close(got, sent, 1.0) for got, sent in zip(features[site["id"]]["coordinates"][0], RD_SQUARE, strict=True))
        assert _close(features[point["id"]]["coordinates"], [X0 + 500, Y0 + 500], 1.0)


async def test_bbox_in_rd_new_selects_the_same_plots_as_in_wgs84(sites):
    inside = await sites.publish(location={"rd_x": X0, "rd_y": Y0})
    await sites.publish(location={"lat": 51.47, "lon": 5.42}, name="Elders in Eindhoven")
    rd_box = f"{X0 - 200},{Y0 - 200},{X0 + 200},{Y0 + 200}"
    # bboxCrs is the NLGov (lowerCamelCase) name; OGC API Features' bbox-crs is accepted too
    r = await sites.client.get(f"/api/v1/sites?bbox={rd_box}&bbox-crs={RD}", headers=sites.anonymous)
    assert r.status_code == 200, r.text
    assert [s["id"] for s in r.json()["data"]] == [inside["id"]]
    mapped = await sites.client.get(f"/api/v1/map/sites.geojson?bbox={rd_box}&bboxCrs={RD}", headers=sites.anonymous)
    assert [f["id"] for f in mapped.json()["features"]] == [inside["id"]]


@pytest.mark.parametrize(
    ("request_kwargs", "status", "name"),
    [
        ({"headers": {"Content-Crs": "EPSG:3857"}}, 400, "Content-Crs"),
        ({"headers": {"Accept-Crs": "EPSG:3857"}}, 406, None),
        ({"params": {"crs": "EPSG:3857"}}, 400, "crs"),
        ({"params": {"bbox": "1,2,3,4", "bboxCrs": RD}}, 400, "bbox"),  # metres outside RD New's domain
        ({"params": {"bbox": "5,51,6,52", "bbox-crs": "EPSG:3857"}}, 400, "bboxCrs"),
        ({"params": {"bbox": "5,51,6,52", "bbox-crs": RD, "bboxCrs": "EPSG:4326"}}, 400, "bboxCrs"),
    ],
)
async def test_unsupported_crs_is_refused_and_changes_nothing(sites, request_kwargs, status, name):
    before = await sites.count_sites()
    headers = {**sites.municipality(), **request_kwargs.get("headers", {})}
    if "params" in request_kwargs:
        r = await sites.client.get("/api/v1/sites", params=request_kwargs["params"], headers=headers)
    else:
        r = await sites.client.post("/api/v1/sites", json=plot(), headers=headers)
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    if name:
        assert [p["name"] for p in r.json()["invalidParams"]] == [name]
    assert await sites.count_sites() == before


async def test_an_rd_boundary_sent_as_wgs84_is_named_outside_the_netherlands(sites):
    body = plot(boundary={"type": "Polygon", "coordinates": [RD_SQUARE]})
    r = await sites.client.post("/api/v1/sites", json=body, headers=sites.municipality())
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "boundary", r.text
    assert "outside the Netherlands" in r.json()["invalidParams"][0]["reason"]
