"""Tenant isolation through the gateway, against the real inventory, sites and matching services.

Investors see and change only their own organisation's data, municipalities only their own
plots and the proposals that touch them, the marktmeester everything; anonymous callers see
published plots and municipalities only. Where a thing's existence is private: 404.
"""

from __future__ import annotations

from services.gateway.tests.system.conftest import AMSTERDAM, APELDOORN, INVESTOR_A, INVESTOR_B, Market, System, placement
from shared.domain import Role


def ids(page: dict) -> set[str]:
    return {row["id"] for row in page["data"]}


async def test_investors_see_only_their_own_complexes_placements_and_proposals(system: System, market: Market) -> None:
    a, b = system.as_(Role.investor, INVESTOR_A), system.as_(Role.investor, INVESTOR_B)
    assert market.proposal_a["placement_id"] == market.placement_a["id"]
    assert market.proposal_a["investor_org"] == INVESTOR_A

    assert ids(await system.ok("GET", "/complexes", a)) == {market.complex_a["id"]}
    assert ids(await system.ok("GET", "/complexes", b)) == {market.complex_b["id"]}
    assert ids(await system.ok("GET", "/placements", a)) == {market.placement_a["id"]}
    assert ids(await system.ok("GET", "/placements", b)) == {market.placement_b["id"]}
    assert ids(await system.ok("GET", "/proposals", a)) == {market.proposal_a["id"]}
    assert ids(await system.ok("GET", "/proposals", b)) == set()
    # A filter naming someone else's data does not widen the scope.
    assert ids(await system.ok("GET", "/placements", b, params={"complex": market.complex_a["id"]})) == set()
    assert ids(await system.ok("GET", "/proposals", b, params={"placement": market.placement_a["id"]})) == set()
    assert ids(await system.ok("GET", "/complexes", b, params={"investorOrg": INVESTOR_A})) == set()

    # Reading A's things as B: they do not exist for B.
    for path in (
        f"/complexes/{market.complex_a['id']}",
        f"/complexes/{market.complex_a['id']}/units",
        f"/complexes/{market.complex_a['id']}/valuation",
        f"/placements/{market.placement_a['id']}",
        f"/proposals/{market.proposal_a['id']}",
    ):
        r = await system.client.get(f"/api/v1{path}", headers=b)
        assert r.status_code == 404, (path, r.text)
        assert r.headers["content-type"].startswith("application/problem+json")
        assert r.headers["API-Version"] == "1.2.0"
    # ... while A reads them.
    assert (await system.ok("GET", f"/complexes/{market.complex_a['id']}", a))["investor_org"] == INVESTOR_A
    assert len((await system.ok("GET", f"/complexes/{market.complex_a['id']}/units", a))["data"]) == 20

    # Changing A's things as B: nothing happens.
    gm, lat, lon = AMSTERDAM
    r = await system.client.post("/api/v1/placements", headers=b, json=placement(market.complex_a["id"], gm, lat, lon, "2027-06-30"))
    assert r.status_code == 404, r.text
    for action in ("accept", "decline"):
        r = await system.client.post(f"/api/v1/proposals/{market.proposal_a['id']}/{action}", headers=b)
        assert r.status_code == 404, r.text
    assert (await system.ok("GET", f"/proposals/{market.proposal_a['id']}", a))["status"] == "pending"
    assert ids(await system.ok("GET", "/placements", a)) == {market.placement_a["id"]}


async def test_municipalities_change_only_their_own_plots_and_answer_only_their_proposals(system: System, market: Market) -> None:
    gm_a, gm_b = APELDOORN[0], AMSTERDAM[0]
    apeldoorn, amsterdam = system.as_(Role.municipality, gm_a), system.as_(Role.municipality, gm_b)
    plot_a = market.plot_a["id"]

    r = await system.client.patch(f"/api/v1/sites/{plot_a}", headers=amsterdam, json={"capacity_units": 1})
    assert r.status_code in (403, 404), r.text
    r = await system.client.delete(f"/api/v1/sites/{plot_a}", headers=amsterdam)
    assert r.status_code in (403, 404), r.text
    r = await system.client.post("/api/v1/sites", headers=amsterdam, json={**market_plot_body(market), "gemeente_code": gm_a})
    assert r.status_code == 403, r.text
    r = await system.client.get(f"/api/v1/sites/{market.draft_a['id']}", headers=amsterdam)
    assert r.status_code == 404, r.text  # another municipality's draft is private
    site = await system.ok("GET", f"/sites/{plot_a}", apeldoorn)
    assert site["capacity_units"] == 40 and site["status"] == "published"

    # The proposal touches Apeldoorn's plot: Amsterdam neither sees nor answers it.
    assert ids(await system.ok("GET", "/proposals", amsterdam)) == set()
    assert ids(await system.ok("GET", "/proposals", apeldoorn)) == {market.proposal_a["id"]}
    r = await system.client.post(f"/api/v1/proposals/{market.proposal_a['id']}/accept", headers=amsterdam)
    assert r.status_code == 404, r.text
    # Municipalities see the placements in their own gemeente only.
    assert ids(await system.ok("GET", "/placements", apeldoorn)) == {market.placement_a["id"]}
    assert ids(await system.ok("GET", "/placements", amsterdam)) == {market.placement_b["id"]}

    # The parties of the proposal accept it: the plot's capacity gets reserved.
    answer = await system.ok("POST", f"/proposals/{market.proposal_a['id']}/accept", system.as_(Role.investor, INVESTOR_A))
    assert answer["status"] == "pending"
    answer = await system.ok("POST", f"/proposals/{market.proposal_a['id']}/accept", apeldoorn)
    assert answer["status"] == "accepted"

    async def reserved() -> bool:
        site = await system.ok("GET", f"/sites/{plot_a}", apeldoorn)
        return site["free_units"] == 20

    from herplaatsing.testing import eventually

    await eventually(reserved, timeout=20)
    r = await system.client.delete(f"/api/v1/sites/{plot_a}", headers=apeldoorn)
    assert r.status_code == 409, r.text  # homes are reserved on it


def market_plot_body(market: Market) -> dict:
    from services.gateway.tests.system.conftest import plot

    gm, lat, lon = AMSTERDAM
    return plot(gm, lat, lon)


async def test_the_marktmeester_sees_everything(system: System, market: Market) -> None:
    mm = system.as_(Role.marktmeester)
    assert ids(await system.ok("GET", "/complexes", mm)) == {market.complex_a["id"], market.complex_b["id"]}
    assert ids(await system.ok("GET", "/placements", mm)) == {market.placement_a["id"], market.placement_b["id"]}
    assert ids(await system.ok("GET", "/proposals", mm)) == {market.proposal_a["id"]}
    assert ids(await system.ok("GET", "/sites", mm, params={"status": "draft"})) == {market.draft_a["id"]}
    assert (await system.ok("GET", f"/complexes/{market.complex_b['id']}", mm))["investor_org"] == INVESTOR_B
    assert (await system.ok("GET", f"/sites/{market.draft_a['id']}", mm))["status"] == "draft"


async def test_anonymous_callers_see_published_plots_and_municipalities_only(system: System, market: Market) -> None:
    assert ids(await system.ok("GET", "/sites")) == {market.plot_a["id"], market.plot_b["id"]}
    assert ids(await system.ok("GET", "/sites", params={"status": "draft"})) == set()
    assert (await system.ok("GET", f"/sites/{market.plot_b['id']}"))["id"] == market.plot_b["id"]
    r = await system.client.get(f"/api/v1/sites/{market.draft_a['id']}")
    assert r.status_code == 404
    # Filters reach the service: only Gelderland, only near Apeldoorn.
    assert ids(await system.ok("GET", "/sites", params={"province": "PV25"})) == {market.plot_a["id"]}
    gm, lat, lon = APELDOORN
    near = await system.ok("GET", "/sites", params={"nearLat": lat, "nearLon": lon, "withinKm": 10, "sort": "distance"})
    assert ids(near) == {market.plot_a["id"]} and near["data"][0]["distance_km"] < 1
    assert len((await system.ok("GET", "/municipalities", params={"limit": 500}))["data"]) == 342

    for method, path in (
        ("GET", "/complexes"),
        ("GET", "/placements"),
        ("GET", "/proposals"),
        ("GET", f"/proposals/{market.proposal_a['id']}"),
        ("GET", "/map/placements.geojson"),
        ("POST", "/sites"),
    ):
        r = await system.client.request(method, f"/api/v1{path}", json={} if method == "POST" else None)
        assert r.status_code == 401, (method, path, r.text)
        assert r.headers["WWW-Authenticate"].startswith("Bearer")
