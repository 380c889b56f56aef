"""Optimistic concurrency on plots: the version as ETag, If-Match on PATCH (412 on a stale edit)."""

from __future__ import annotations


async def test_a_stale_if_match_is_refused_and_a_current_one_applies(sites):
    site = await sites.publish()
    url = f"/api/v1/sites/{site['id']}"
    read = await sites.client.get(url, headers=sites.municipality())
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'

    changed = await sites.client.patch(url, json={"capacity_units": 60}, headers={**sites.municipality(), "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"' and changed.json()["version"] == 2

    stale = await sites.client.patch(url, json={"capacity_units": 70}, headers={**sites.municipality(), "If-Match": read.headers["ETag"]})
    assert stale.status_code == 412 and stale.headers["content-type"] == "application/problem+json"
    assert (await sites.client.get(url, headers=sites.municipality())).json()["capacity_units"] == 60  # nothing applied

    anyway = await sites.client.patch(url, json={"capacity_units": 70}, headers={**sites.municipality(), "If-Match": "*"})
    assert anyway.status_code == 200 and anyway.json()["version"] == 3
    without = await sites.client.patch(url, json={"capacity_units": 72}, headers=sites.municipality())
    assert without.status_code == 200 and without.headers["ETag"] == '"4"'  # If-Match stays optional
    assert [e["data"]["version"] for e in await sites.events("sites.site.updated")] == [2, 3, 4]
