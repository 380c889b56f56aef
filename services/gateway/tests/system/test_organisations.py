"""The registry of organisations through the gateway, with the real inventory service behind it:
the marktmeester registers and deactivates investors, and the gateway lets only their users act."""

from __future__ import annotations

from services.gateway.tests.system.conftest import INVESTOR_A, System, complex_registration
from shared.demo_parties import demo_organisation
from shared.domain import Role


async def test_only_a_registered_active_investor_acts_and_a_deactivation_takes_effect_within_the_cache_time(system: System) -> None:
    mm = system.as_(Role.marktmeester)
    newcomer = system.as_(Role.investor, "bl-nieuw-fonds")
    r = await system.client.get("/api/v1/complexes", headers=newcomer)
    assert r.status_code == 403 and r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["detail"] == "The organisation bl-nieuw-fonds is not registered." and r.json()["organisation"] == "bl-nieuw-fonds"

    created = await system.ok("POST", "/organisations", mm, 201, json=demo_organisation("bl-nieuw-fonds"))
    assert created["active"] is True and created["role"] == "investor" and created["kind"] == "belegger"
    # "not registered" a moment ago is remembered up to organisation_cache_s: as if that time passed
    # (the cache's expiry itself: services/gateway/tests/auth/test_organisations.py)
    checks = system.client._transport.app.state.runtime.organisations  # type: ignore[attr-defined]
    checks._cache.clear()
    await system.ok("POST", "/complexes", newcomer, 201, json=complex_registration("Flex Nieuw"))

    current = await system.client.get("/api/v1/organisations/bl-nieuw-fonds", headers=newcomer)
    assert current.status_code == 200 and current.headers["ETag"] == '"1"'
    off = await system.client.patch("/api/v1/organisations/bl-nieuw-fonds", headers={**mm, "If-Match": '"1"'}, json={"active": False})
    assert off.status_code == 200, off.text
    assert off.json()["active"] is False and off.json()["version"] == 2
    checks._cache.clear()
    r = await system.client.get("/api/v1/complexes", headers=newcomer)
    assert r.status_code == 403 and r.json()["detail"] == "The organisation bl-nieuw-fonds is deactivated; its users cannot act for it."
    # no hard delete: the organisation and its complex are still there for the marktmeester
    assert (await system.ok("GET", "/organisations/bl-nieuw-fonds", mm))["active"] is False
    assert len((await system.ok("GET", "/complexes", mm, params={"investorOrg": "bl-nieuw-fonds"}))["data"]) == 1
    # a stale If-Match is refused
    stale = await system.client.patch("/api/v1/organisations/bl-nieuw-fonds", headers={**mm, "If-Match": '"1"'}, json={"active": True})
    assert stale.status_code == 412


async def test_municipalities_and_the_marktmeester_are_checked_without_the_registry(system: System) -> None:
    r = await system.client.get("/api/v1/complexes", headers=system.as_(Role.municipality, "GM9999"))
    assert r.status_code == 403 and "GM9999 is not registered" in r.json()["detail"]
    assert (await system.client.get("/api/v1/complexes", headers=system.as_(Role.municipality, "GM0363"))).status_code == 200
    assert (await system.client.get("/api/v1/complexes", headers=system.as_(Role.marktmeester, "rvo"))).status_code == 200
    r = await system.client.get("/api/v1/complexes", headers=system.as_(Role.marktmeester, "not-rvo"))
    assert r.status_code == 403 and "not-rvo is not registered" in r.json()["detail"]


async def test_anyone_signed_in_lists_investors_and_municipalities_in_one_shape(system: System) -> None:
    municipality = system.as_(Role.municipality, "GM0363")
    page = await system.ok("GET", "/organisations", municipality, params={"limit": 2})
    assert [o["id"] for o in page["data"]] == ["GM0014", "GM0034"]  # CBS codes sort before the investors' ids
    assert page["data"][0] == {"id": "GM0014", "role": "municipality", "name": "Groningen", "kvk_number": None, "kind": "gemeente",
                               "contact_email": None, "contact_phone": None, "active": True, "version": 1}
    investors = await system.ok("GET", "/organisations", municipality, params={"role": "investor"})
    assert [o["id"] for o in investors["data"]] == sorted(["wc-woonbron", INVESTOR_A, "wonenplus"])
    assert all(o["kvk_number"] and len(o["kvk_number"]) == 8 for o in investors["data"])
    # every page, cursor after cursor: each organisation once
    seen, cursor = [], None
    while True:
        page = await system.ok("GET", "/organisations", municipality, params={"limit": 100, **({"cursor": cursor} if cursor else {})})
        seen += [o["id"] for o in page["data"]]
        cursor = page.get("next_cursor")
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == 342 + 3 and seen == sorted(seen)
    # only the marktmeester registers or changes
    investor = system.as_(Role.investor, INVESTOR_A)
    r = await system.client.post("/api/v1/organisations", headers=investor, json=demo_organisation("bl-zelf"))
    assert r.status_code == 403
    r = await system.client.patch(f"/api/v1/organisations/{INVESTOR_A}", headers=investor, json={"active": False})
    assert r.status_code == 403
