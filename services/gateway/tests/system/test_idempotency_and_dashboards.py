"""Through the gateway against the real services: Idempotency-Key on creating POSTs, the
marktmeester's dashboards built from the services' statistics, and the two maps."""

from __future__ import annotations

from services.gateway.tests.system.conftest import (
    AMSTERDAM,
    APELDOORN,
    INVESTOR_A,
    INVESTOR_B,
    Market,
    System,
    complex_registration,
    plot,
)
from shared.domain import Role


async def test_a_retried_post_returns_the_first_answer_and_creates_nothing_twice(system: System) -> None:
    investor = system.as_(Role.investor, INVESTOR_A, **{"Idempotency-Key": "register-flex-a"})
    first = await system.client.post("/api/v1/complexes", headers=investor, json=complex_registration("Flex A"))
    again = await system.client.post("/api/v1/complexes", headers=investor, json=complex_registration("Flex A"))
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    page = await system.ok("GET", "/complexes", system.as_(Role.investor, INVESTOR_A))
    assert [c["id"] for c in page["data"]] == [first.json()["id"]]

    # Same key, different request: refused, nothing created.
    r = await system.client.post("/api/v1/complexes", headers=investor, json=complex_registration("Flex A2", units=5))
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert len((await system.ok("GET", "/complexes", system.as_(Role.marktmeester)))["data"]) == 1
    # A key belongs to its caller: another investor's identical key creates their own complex.
    other = system.as_(Role.investor, INVESTOR_B, **{"Idempotency-Key": "register-flex-a"})
    r = await system.client.post("/api/v1/complexes", headers=other, json=complex_registration("Flex A"))
    assert r.status_code == 201 and r.json()["id"] != first.json()["id"]

    gm, lat, lon = APELDOORN
    municipality = system.as_(Role.municipality, gm, **{"Idempotency-Key": "publish-1"})
    sites = [await system.client.post("/api/v1/sites", headers=municipality, json=plot(gm, lat, lon)) for _ in range(2)]
    assert [s.status_code for s in sites] == [201, 201] and sites[0].json() == sites[1].json()
    assert sites[0].headers["Location"] == sites[1].headers["Location"] == f"/api/v1/sites/{sites[0].json()['id']}"
    assert len((await system.ok("GET", "/sites"))["data"]) == 1

    mm = system.as_(Role.marktmeester, **{"Idempotency-Key": "run-1"})
    runs = [await system.client.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"}) for _ in range(2)]
    assert [r.status_code for r in runs] == [201, 201] and runs[0].json()["id"] == runs[1].json()["id"]
    assert len((await system.ok("GET", "/matching/runs", system.as_(Role.marktmeester)))["data"]) == 1


async def test_dashboards_combine_the_three_services(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    summary = await system.ok("GET", "/dashboard/summary", mm)
    assert summary["today"] == "2026-11-23"
    assert summary["homes"] == {"placed": 40, "ending_within_12_months": 20, "ending_within_24_months": 20}
    assert summary["plots"] == {"published": 2, "capacity_units": 80, "reserved_units": 0, "free_units": 80}
    assert summary["proposals"]["by_status"]["pending"] == 1
    assert summary["capacity_gap_24_months"] == 0

    forecast = await system.ok("GET", "/dashboard/forecast", mm)
    assert len(forecast["quarters"]) == 40 and forecast["quarters"][0] == "2026-Q4"
    cells = {(c["quarter"], c["province_code"]): c for c in forecast["cells"]}
    gelderland_q2 = cells["2027-Q2", "PV25"]  # placement A ends 2027-06-30 in Apeldoorn
    assert (gelderland_q2["homes_ending"], gelderland_q2["capacity_available"], gelderland_q2["gap"]) == (20, 0, 20)
    assert cells["2027-Q1", "PV25"]["capacity_available"] == 40  # both plots open on 2027-01-01
    assert cells["2027-Q1", "PV27"]["capacity_available"] == 40
    assert cells["2031-Q2", "PV27"]["homes_ending"] == 20  # placement B
    totals = {t["quarter"]: t for t in forecast["totals"]}
    assert totals["2027-Q2"]["gap"] == 20 and totals["2027-Q2"]["cumulative_gap"] == 0

    for path in ("/dashboard/summary", "/dashboard/forecast"):
        r = await system.client.get(f"/api/v1{path}", headers=system.as_(Role.investor, INVESTOR_A))
        assert r.status_code == 403, r.text


async def test_maps_show_published_plots_to_everyone_and_placements_by_role(system: System, market: Market) -> None:
    r = await system.client.get("/api/v1/map/sites.geojson")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/geo+json")
    sites = r.json()
    assert sites["type"] == "FeatureCollection"
    assert {f["properties"]["site_id"] for f in sites["features"]} == {market.plot_a["id"], market.plot_b["id"]}
    feature = next(f for f in sites["features"] if f["properties"]["site_id"] == market.plot_a["id"])
    assert feature["geometry"]["type"] == "Point" and feature["properties"]["free_units"] == 40
    only_apeldoorn = await system.ok("GET", "/map/sites.geojson", params={"municipality": APELDOORN[0]})
    assert [f["properties"]["site_id"] for f in only_apeldoorn["features"]] == [market.plot_a["id"]]

    def placement_ids(collection: dict) -> set[str]:
        return {f["properties"]["placement_id"] for f in collection["features"]}

    assert placement_ids(await system.ok("GET", "/map/placements.geojson", system.as_(Role.investor, INVESTOR_A))) == {
        market.placement_a["id"]
    }
    assert placement_ids(await system.ok("GET", "/map/placements.geojson", system.as_(Role.municipality, AMSTERDAM[0]))) == {
        market.placement_b["id"]
    }
    everything = await system.ok("GET", "/map/placements.geojson", system.as_(Role.marktmeester))
    assert placement_ids(everything) == {market.placement_a["id"], market.placement_b["id"]}
