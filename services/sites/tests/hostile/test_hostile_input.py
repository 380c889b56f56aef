"""Issue 13 for the sites service: geometry bounds, NUL bytes in filters, cursors, dates."""

from __future__ import annotations

import pytest

from services.sites.tests.conftest import plot
from shared.web.pagination import encode_cursor

SQUARE = [[5.469, 51.441], [5.470, 51.441], [5.470, 51.442], [5.469, 51.442]]


async def test_an_unclosed_ring_is_400_and_nothing_is_stored(sites):
    before = await sites.count_sites()
    r = await sites.client.post(
        "/api/v1/sites", json=plot(boundary={"type": "Polygon", "coordinates": [SQUARE]}), headers=sites.municipality()
    )
    # the deepest field that is wrong, without the union tag pydantic adds (`boundary.Polygon...`)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "boundary.coordinates", r.text
    closed = await sites.publish(boundary={"type": "Polygon", "coordinates": [[*SQUARE, SQUARE[0]]]})
    assert closed["boundary"]["coordinates"][0][-1] == SQUARE[0]
    assert await sites.count_sites() == before + 1


async def test_a_huge_ring_is_refused_before_shapely(sites):
    n = 50_000
    ring = [[5.469 + 0.001 * i / n, 51.441 + (i % 2) * 1e-6] for i in range(n)] + [[5.469, 51.441]]
    r = await sites.client.post("/api/v1/sites", json=plot(boundary={"type": "Polygon", "coordinates": [ring]}), headers=sites.municipality())
    assert r.status_code in (400, 413), r.text


@pytest.mark.parametrize("query", ["q=a%00b", "province=%00", "gemeente=GM%000772", "cursor=%00"])
async def test_nul_bytes_in_filters_are_400(sites, query):
    r = await sites.client.get(f"/api/v1/sites?{query}", headers=sites.anonymous)
    assert r.status_code == 400, r.text



@pytest.mark.parametrize("path", ["/api/v1/sites", "/api/v1/sites?sort=availableFrom", "/api/v1/reservations", "/api/v1/municipalities"])
async def test_cursors_the_api_never_issued_are_400(sites, path):
    await sites.publish()
    for cursor in (encode_cursor(["nope", "nope"]), encode_cursor(["2026-13-45", "7"]), encode_cursor(["x\x00"]), "!!!"):
        r = await sites.client.get(path, params={"cursor": cursor}, headers=sites.marktmeester)
        assert r.status_code == 400, (path, cursor, r.text)


async def test_dates_beyond_the_sane_range_are_400(sites):
    r = await sites.client.post("/api/v1/sites", json=plot(available_until="9999-12-31"), headers=sites.municipality())
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "available_until"
    r = await sites.client.get("/api/v1/sites?freeAt=0001-01-01", headers=sites.anonymous)
    assert r.status_code == 400


async def test_a_municipality_token_must_carry_a_gemeentecode(sites):
    r = await sites.client.post("/api/v1/sites", json=plot(), headers=sites.as_("municipality", "not-a-gemeente"))
    assert r.status_code == 401


async def test_an_explicit_default_under_a_used_key_is_another_body(sites):
    """As in inventory (shared.web.idempotency): the body as sent is hashed, so an explicit default differs."""
    headers = {**sites.municipality(), "Idempotency-Key": "explicit-default"}
    first = await sites.client.post("/api/v1/sites", json=plot(), headers=headers)
    again = await sites.client.post("/api/v1/sites", json=plot(doelgroep_restrictions=[]), headers=headers)
    assert first.status_code == 201 and again.status_code == 422
