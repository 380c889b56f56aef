"""Bad input gets a 400 naming every offending field; nothing is stored and no event is written."""

from __future__ import annotations

from typing import Any

import pytest

from services.sites.tests.conftest import plot

SELF_INTERSECTING = {"type": "Polygon", "coordinates": [[[5.46, 51.44], [5.47, 51.45], [5.47, 51.44], [5.46, 51.45], [5.46, 51.44]]]}
IN_BELGIUM = {"type": "Polygon", "coordinates": [[[4.35, 50.5], [4.36, 50.5], [4.36, 50.51], [4.35, 50.51], [4.35, 50.5]]]}

BAD: list[tuple[str, dict[str, Any], set[str]]] = [
    ("point in Germany", {"location": {"lat": 52.52, "lon": 13.40}}, {"location.lat"}),
    ("RD point far outside", {"location": {"rd_x": 900_000.0, "rd_y": 100_000.0}}, {"location.rd_x"}),
    ("both coordinate pairs", {"location": {"lat": 51.44, "lon": 5.47, "rd_x": 161_500.0, "rd_y": 383_200.0}}, {"location.rd_x"}),
    ("lat without lon", {"location": {"lat": 51.44}}, {"location.lon"}),
    ("lon without lat", {"location": {"lon": 5.47}}, {"location.lat"}),
    ("rd_x without rd_y", {"location": {"rd_x": 161_500.0}}, {"location.rd_y"}),
    ("latitude out of range", {"location": {"lat": 200, "lon": 5.47}}, {"location.lat"}),
    ("capacity zero", {"capacity_units": 0}, {"capacity_units"}),
    ("capacity negative", {"capacity_units": -5}, {"capacity_units"}),
    ("until before from", {"available_until": "2027-01-01"}, {"available_until"}),
    ("unknown municipality", {"gemeente_code": "GM9999"}, {"gemeente_code"}),
    ("malformed municipality", {"gemeente_code": "Eindhoven"}, {"gemeente_code"}),
    ("layers zero", {"max_layers": 0}, {"max_layers"}),
    ("layers seven", {"max_layers": 7}, {"max_layers"}),
    ("unknown kind", {"kind": "castle"}, {"kind"}),
    ("unknown instrument", {"expected_instrument": "handshake"}, {"expected_instrument"}),
    ("unknown exclusion", {"exclusions": ["ghosts"]}, {"exclusions.0"}),
    ("noise as a hard exclusion", {"exclusions": ["natura2000", "geluid"]}, {"exclusions.1"}),
    ("unknown site factor", {"site_factors": ["ghosts"]}, {"site_factors.0"}),
    ("more promised than capacity", {"capacity_units": 10, "promised_units": 11}, {"promised_units"}),
    ("negative promise", {"promised_units": -1}, {"promised_units"}),
    ("social rent only, yet no social rent", {"social_rent_only": True, "allows_social_rent": False}, {"allows_social_rent"}),
    ("unknown doelgroep", {"doelgroep_restrictions": ["pirates"]}, {"doelgroep_restrictions.0"}),
    ("GeoJSON that is a point", {"boundary": {"type": "Point", "coordinates": [5.47, 51.44]}}, {"boundary"}),
    # the deepest fields: the two numbers that should have been [lon, lat] positions
    ("GeoJSON with broken coordinates", {"boundary": {"type": "Polygon", "coordinates": [[1, 2]]}},
     {"boundary.coordinates.0.0", "boundary.coordinates.0.1"}),
    ("self-intersecting polygon", {"boundary": SELF_INTERSECTING}, {"boundary"}),
    ("polygon outside NL", {"boundary": IN_BELGIUM}, {"boundary"}),
    ("term longer than Wro allows", {"expected_instrument": "wro_voorlopig", "min_term_years": 6, "available_until": None}, {"min_term_years"}),
    ("window shorter than the term", {"available_from": "2027-06-01", "available_until": "2030-06-01", "min_term_years": 5}, {"available_until"}),
    ("garantiekavel without cluster", {"kind": "garantiekavel"}, {"garantiekavel"}),
    ("cluster on a municipal plot", {"garantiekavel": {"cluster_id": "GK-1"}}, {"garantiekavel"}),
    ("tijdelijk level on a permanent plot", {"expected_instrument": "permanent", "allows_tijdelijk_bbl": True, "min_term_years": 0}, {"allows_tijdelijk_bbl"}),
    ("unknown field", {"colour": "green"}, {"colour"}),
    ("date that is no date", {"available_from": "next spring"}, {"available_from"}),
    # Amsterdam's point claimed by Eindhoven (the CBS 2025 boundary decides, 1 km tolerance)
    ("point in another gemeente", {"location": {"lat": 52.3731, "lon": 4.8922}}, {"location.lat"}),
    ("RD point in another gemeente", {"location": {"rd_x": 121_000.0, "rd_y": 487_000.0}}, {"location.rd_x"}),
    ("point 6 km beyond the boundary", {"location": {"lat": 51.44, "lon": 5.26}}, {"location.lat"}),
]


def _invalid_names(response) -> set[str]:
    assert response.status_code == 400, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == 400 and body["title"] and body["detail"]
    return {p["name"] for p in body["invalidParams"]}


@pytest.mark.parametrize(("case", "overrides", "fields"), BAD, ids=[b[0] for b in BAD])
async def test_bad_plot_is_refused_naming_the_field_and_changes_nothing(sites, case, overrides, fields):
    r = await sites.client.post("/api/v1/sites", json=plot(**overrides), headers=sites.marktmeester)
    assert _invalid_names(r) == fields, case
    assert await sites.count_sites() == 0 and await sites.events() == []


async def test_every_offending_field_is_named_at_once(sites):
    body = plot(capacity_units=0, max_layers=9, kind="castle", gemeente_code="GM9999", location={"lat": 48.85, "lon": 2.35})
    r = await sites.client.post("/api/v1/sites", json=body, headers=sites.marktmeester)
    assert _invalid_names(r) == {"capacity_units", "max_layers", "kind", "gemeente_code", "location.lat"}


async def test_every_cross_field_rule_is_named_at_once(sites):
    body = plot(expected_instrument="wro_voorlopig", min_term_years=7, available_until="2027-01-01", kind="garantiekavel")
    r = await sites.client.post("/api/v1/sites", json=body, headers=sites.marktmeester)
    assert _invalid_names(r) == {"min_term_years", "available_until", "garantiekavel"}


async def test_bad_update_is_refused_and_the_plot_stays_as_it_was(sites):
    site = await sites.publish()
    url = f"/api/v1/sites/{site['id']}"
    r = await sites.client.patch(
        url, json={"capacity_units": None, "max_layers": 9, "location": {"lat": 60.0, "lon": 5.0}}, headers=sites.municipality()
    )
    assert _invalid_names(r) == {"capacity_units", "max_layers", "location.lat"}
    r = await sites.client.patch(url, json={"expected_instrument": "wro_voorlopig", "min_term_years": 20}, headers=sites.municipality())
    assert _invalid_names(r) == {"min_term_years", "available_until"}  # longer than Wro allows, and than the window
    # the merged window (2027-06..2039-05 = 12 years) is checked against a new term too
    r = await sites.client.patch(url, json={"available_until": "2029-01-01"}, headers=sites.municipality())
    assert _invalid_names(r) == {"available_until"}
    after = (await sites.client.get(url, headers=sites.anonymous)).json()
    assert after == site
    assert len(await sites.events()) == 1  # only the original publication


@pytest.mark.parametrize(
    ("query", "fields"),
    [
        ("nearLat=51.4", {"nearLon"}),
        ("withinKm=10", {"withinKm"}),
        ("sort=distance", {"sort"}),
        ("bbox=5,51,4,52", {"bbox"}),
        ("bbox=abc", {"bbox"}),
        ("municipality=GM9999", {"municipality"}),
        ("freeAt=someday&minFreeUnits=0", {"freeAt", "minFreeUnits"}),
        ("kind=castle&limit=0", {"kind", "limit"}),
        ("availableFrom=2030-01-01&availableUntil=2029-01-01", {"availableUntil"}),
        ("cursor=not-a-cursor", {"cursor"}),
    ],
)
async def test_bad_query_parameters_are_named(sites, query, fields):
    r = await sites.client.get(f"/api/v1/sites?{query}", headers=sites.anonymous)
    assert _invalid_names(r) == fields


async def test_a_point_just_across_the_generalised_boundary_is_accepted(sites):
    # The CBS 2025 boundaries are simplified: a real address a few hundred metres across the drawn line
    # still belongs to the gemeente it claims (this point is ~500 m north of Eindhoven's drawn boundary).
    from shared.reference import distance_to_municipality_m

    lat, lon = 51.50149, 5.51101
    assert 0 < distance_to_municipality_m("GM0772", lat, lon) < 1000
    r = await sites.client.post("/api/v1/sites", json=plot(location={"lat": lat, "lon": lon}), headers=sites.marktmeester)
    assert r.status_code == 201, r.text


async def test_moving_a_plot_out_of_its_gemeente_is_refused_and_changes_nothing(sites):
    created = await sites.client.post("/api/v1/sites", json=plot(), headers=sites.marktmeester)
    assert created.status_code == 201, created.text
    url = f"/api/v1/sites/{created.json()['id']}"
    r = await sites.client.patch(url, json={"location": {"lat": 52.3731, "lon": 4.8922}}, headers=sites.marktmeester)
    assert _invalid_names(r) == {"location.lat"}
    after = await sites.client.get(url, headers=sites.marktmeester)
    assert after.json()["location"]["lat"] == created.json()["location"]["lat"]
