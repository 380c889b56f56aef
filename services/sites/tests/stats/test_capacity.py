"""`/stats/capacity`: plot supply the gateway's forecast compares with expiring homes."""

from __future__ import annotations


async def test_capacity_by_quarter_the_window_opens(sites):
    # today is 2026-11-23 (2026-Q4)
    await sites.publish(capacity_units=48, available_from="2027-06-01", available_until="2039-05-31")  # PV30, 2027-Q2
    await sites.publish(
        gemeente_code="GM0344", location={"lat": 52.09, "lon": 5.12}, capacity_units=10, available_from="2025-01-01", available_until=None
    )  # PV26, open already: counts now
    await sites.publish(
        gemeente_code="GM0344", location={"lat": 52.09, "lon": 5.12}, capacity_units=7, available_from="2020-01-01",
        available_until="2026-01-01", min_term_years=0,
    )  # window over: no future supply
    await sites.publish(capacity_units=30, available_from="2040-01-01", available_until="2055-01-01")  # beyond 40 quarters
    await sites.publish(capacity_units=99, status="draft")  # not published

    r = await sites.client.get("/api/v1/stats/capacity", headers=sites.marktmeester)
    assert r.status_code == 200, r.text
    stats = r.json()
    assert stats["plots_published"] == 4
    assert stats["capacity_units"] == stats["free_units"] == 95 and stats["reserved_units"] == 0
    assert stats["capacity_by_quarter"] == [
        {"quarter": "2026-Q4", "province_code": "PV26", "available_homes": 10},
        {"quarter": "2027-Q2", "province_code": "PV30", "available_homes": 48},
    ]


async def test_capacity_stats_are_for_the_marktmeester_only(sites):
    assert (await sites.client.get("/api/v1/stats/capacity", headers=sites.municipality())).status_code == 403
    assert (await sites.client.get("/api/v1/stats/capacity", headers=sites.anonymous)).status_code == 401
