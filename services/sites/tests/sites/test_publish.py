"""Publishing, changing and withdrawing plots: lifecycle, events, versions, who may do what."""

from __future__ import annotations

import pytest

from services.sites.tests.conftest import EINDHOVEN, UTRECHT, plot


async def test_published_plot_is_stored_public_and_announced_with_everything_matching_needs(sites):
    site = await sites.publish()
    assert site["status"] == "published" and site["version"] == 1
    assert site["province_code"] == "PV30"
    assert site["free_units"] == 48 and site["reserved_units"] == 0
    assert site["max_term_years"] == 10
    assert site["allows_tijdelijk_bbl"] is True  # temporary regime: tijdelijk-level homes allowed by default
    # RD New derived from WGS84 (Eindhoven centre is about x=161.5 km, y=383.3 km)
    assert abs(site["location"]["rd_x"] - 161_500) < 1_000 and abs(site["location"]["rd_y"] - 383_300) < 1_000

    public = await sites.client.get(f"/api/v1/sites/{site['id']}", headers=sites.anonymous)
    assert public.status_code == 200 and public.json()["name"] == "Kavel Strijp-Noord"

    [event] = await sites.events()
    assert event["type"] == "sites.site.published" and event["subject"] == site["id"]
    data = event["data"]
    assert data["site_id"] == site["id"] and data["version"] == 1 and data["capacity_units"] == 48
    assert data["gemeente_code"] == EINDHOVEN and data["province_code"] == "PV30"
    assert data["readiness"]["bouwrijp"] is True and data["expected_instrument"] == "wabo_bor4_11"


async def test_created_plot_answers_with_its_location(sites):
    r = await sites.client.post("/api/v1/sites", json=plot(), headers=sites.municipality())
    assert r.status_code == 201 and r.headers["Location"] == f"/api/v1/sites/{r.json()['id']}"


async def test_rd_new_coordinates_are_converted_to_wgs84(sites):
    # The RD origin (x=155 km, y=463 km) is the Onze Lieve Vrouwetoren in Amersfoort: 52.15517 N, 5.38721 E.
    site = await sites.publish(sites.municipality("GM0307"), gemeente_code="GM0307", location={"rd_x": 155_000.0, "rd_y": 463_000.0})
    assert abs(site["location"]["lat"] - 52.15517) < 1e-4 and abs(site["location"]["lon"] - 5.38721) < 1e-4
    assert site["location"]["rd_x"] == 155_000.0 and site["location"]["rd_y"] == 463_000.0


async def test_boundary_is_kept_served_as_geometry_and_gives_the_area(sites):
    square = {"type": "Polygon", "coordinates": [[[5.46, 51.44], [5.462, 51.44], [5.462, 51.441], [5.46, 51.441], [5.46, 51.44]]]}
    site = await sites.publish(boundary=square)
    assert site["boundary"] == square
    assert 1.0 < site["area_ha"] < 1.8  # ~139 m x ~111 m
    fc = (await sites.client.get("/api/v1/map/sites.geojson", headers=sites.anonymous)).json()
    assert fc["type"] == "FeatureCollection"
    [feature] = fc["features"]
    assert feature["geometry"] == square
    assert feature["properties"]["site_id"] == site["id"] and feature["properties"]["free_units"] == 48


async def test_garantiekavel_carries_its_cluster_details(sites):
    site = await sites.publish(
        sites.marktmeester,
        kind="garantiekavel",
        capacity_units=50,
        garantiekavel={"cluster_id": "GK-NB-1", "vaste_kern_units": 20, "reserved_until": "2045-12-31", "location_may_shift": True},
    )
    assert site["garantiekavel"] == {
        "cluster_id": "GK-NB-1",
        "vaste_kern_units": 20,
        "reserved_until": "2045-12-31",
        "location_may_shift": True,
    }
    [event] = await sites.events()
    assert event["data"]["garantiekavel"]["cluster_id"] == "GK-NB-1" and event["data"]["kind"] == "garantiekavel"


async def test_draft_is_private_until_published_and_publishing_announces_it(sites):
    draft = await sites.publish(status="draft")
    assert draft["status"] == "draft"
    assert await sites.events() == []  # matching never sees drafts
    url = f"/api/v1/sites/{draft['id']}"
    assert (await sites.client.get(url, headers=sites.anonymous)).status_code == 404
    assert (await sites.client.get(url, headers=sites.municipality(UTRECHT))).status_code == 404
    assert (await sites.client.get(url, headers=sites.municipality())).status_code == 200
    listed = (await sites.client.get("/api/v1/sites", headers=sites.anonymous)).json()["data"]
    assert listed == []
    own_drafts = (await sites.client.get("/api/v1/sites?status=draft", headers=sites.municipality())).json()["data"]
    assert [s["id"] for s in own_drafts] == [draft["id"]]
    assert (await sites.client.get("/api/v1/sites?status=draft", headers=sites.municipality(UTRECHT))).json()["data"] == []

    published = await sites.client.patch(url, json={"status": "published"}, headers=sites.municipality())
    assert published.status_code == 200 and published.json()["version"] == 2
    [event] = await sites.events()
    assert event["type"] == "sites.site.published" and event["data"]["version"] == 2
    assert (await sites.client.get(url, headers=sites.anonymous)).status_code == 200


async def test_every_change_bumps_the_version_and_is_announced(sites):
    site = await sites.publish()
    url = f"/api/v1/sites/{site['id']}"
    r = await sites.client.patch(url, json={"capacity_units": 60, "readiness": {"bouwrijp": True, "heat": True}}, headers=sites.municipality())
    assert r.status_code == 200, r.text
    assert r.json()["version"] == 2 and r.json()["capacity_units"] == 60 and r.json()["readiness"]["heat"] is True
    assert r.json()["name"] == site["name"]  # untouched fields stay
    r = await sites.client.patch(url, json={"available_until": None}, headers=sites.marktmeester)  # open-ended now
    assert r.status_code == 200 and r.json()["available_until"] is None and r.json()["version"] == 3
    updates = await sites.events("sites.site.updated")
    assert [e["data"]["version"] for e in updates] == [2, 3]
    assert updates[0]["data"]["capacity_units"] == 60 and updates[1]["data"]["available_until"] is None


async def test_changing_the_regime_to_permanent_stops_tijdelijk_level_homes(sites):
    site = await sites.publish(min_term_years=0)
    r = await sites.client.patch(f"/api/v1/sites/{site['id']}", json={"expected_instrument": "permanent"}, headers=sites.municipality())
    assert r.status_code == 200 and r.json()["allows_tijdelijk_bbl"] is False and r.json()["max_term_years"] is None


async def test_withdrawal_hides_the_plot_and_is_announced(sites):
    site = await sites.publish()
    url = f"/api/v1/sites/{site['id']}"
    r = await sites.client.delete(url, headers=sites.municipality())
    assert r.status_code == 200 and r.json()["status"] == "withdrawn" and r.json()["version"] == 2
    assert (await sites.client.get(url, headers=sites.anonymous)).status_code == 404
    [event] = await sites.events("sites.site.withdrawn")
    assert event["data"] == {"site_id": site["id"], "version": 2, "gemeente_code": EINDHOVEN}
    # withdrawing again changes nothing; a withdrawn plot cannot be changed
    assert (await sites.client.delete(url, headers=sites.municipality())).json()["version"] == 2
    assert len(await sites.events("sites.site.withdrawn")) == 1
    assert (await sites.client.patch(url, json={"name": "x"}, headers=sites.municipality())).status_code == 409


async def test_published_plot_cannot_go_back_to_draft(sites):
    site = await sites.publish()
    r = await sites.client.patch(f"/api/v1/sites/{site['id']}", json={"status": "draft"}, headers=sites.municipality())
    assert r.status_code == 409


@pytest.mark.parametrize(
    ("role", "org", "status"),
    [(None, None, 401), ("investor", "woonstichting-a", 403), ("municipality", UTRECHT, 403)],
)
async def test_only_the_own_municipality_or_the_marktmeester_may_publish(sites, role, org, status):
    r = await sites.client.post("/api/v1/sites", json=plot(), headers=sites.as_(role, org))
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert await sites.count_sites() == 0 and await sites.events() == []


@pytest.mark.parametrize(
    ("role", "org", "status"),
    [(None, None, 401), ("investor", "woonstichting-a", 403), ("municipality", UTRECHT, 403)],
)
async def test_only_the_owner_or_the_marktmeester_may_change_or_withdraw(sites, role, org, status):
    site = await sites.publish()
    url = f"/api/v1/sites/{site['id']}"
    assert (await sites.client.patch(url, json={"name": "Overgenomen"}, headers=sites.as_(role, org))).status_code == status
    assert (await sites.client.delete(url, headers=sites.as_(role, org))).status_code == status
    assert (await sites.client.patch(url, json={"name": "Door RVO"}, headers=sites.marktmeester)).status_code == 200
    assert len(await sites.events()) == 2  # published + the marktmeester's update only


async def test_calls_without_the_internal_identity_are_refused(sites):
    r = await sites.client.get("/api/v1/sites")
    assert r.status_code == 401


async def test_idempotency_key_returns_the_first_result_and_creates_nothing_twice(sites):
    headers = {**sites.municipality(), "Idempotency-Key": "plot-strijp-1"}
    first = await sites.client.post("/api/v1/sites", json=plot(), headers=headers)
    again = await sites.client.post("/api/v1/sites", json=plot(), headers=headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert await sites.count_sites() == 1 and len(await sites.events()) == 1
    other = await sites.client.post("/api/v1/sites", json=plot(name="Another"), headers=headers)
    assert other.status_code == 422
    assert await sites.count_sites() == 1
