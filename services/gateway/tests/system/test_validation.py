"""Invalid input through the gateway: the owning service validates it and its 400 problem comes back.

The gateway forwards parameters and bodies unread (upstream/test_forwarding.py); these are the
answers a client gets, from the real services.
"""

from __future__ import annotations

from shared.domain import Role


async def test_invalid_input_is_a_400_naming_every_field(system) -> None:
    investor = system.as_(Role.investor, "wc-woonbron")
    r = await system.client.get("/api/v1/placements?limit=0&expiringBefore=soon&cursor=x", headers=investor)
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    assert {p["name"] for p in r.json()["invalidParams"]} == {"limit", "expiringBefore"}
    assert r.headers["API-Version"] == "1.2.0"
    r = await system.client.get("/api/v1/placements/not-a-uuid", headers=investor)
    assert r.status_code == 400 and r.json()["invalidParams"][0]["name"] == "id"  # the public path's name
    r = await system.client.post("/api/v1/complexes", content=b"[1, 2", headers={**investor, "Content-Type": "application/json"})
    assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json")
    r = await system.client.get("/api/v1/sites?limit=0&freeAt=soon&nearLat=200&minFreeUnits=-1&status=gone")
    assert r.status_code == 400
    assert {p["name"] for p in r.json()["invalidParams"]} == {"limit", "freeAt", "nearLat", "minFreeUnits", "status"}


async def test_role_and_token_are_checked_before_the_service_reads_anything(system) -> None:
    r = await system.client.post("/api/v1/complexes", content=b"[1, 2", headers={"Content-Type": "application/json"})
    assert r.status_code == 401 and r.headers["WWW-Authenticate"]
    municipality = system.as_(Role.municipality, "GM0772")
    r = await system.client.post("/api/v1/complexes", content=b"[1, 2", headers={**municipality, "Content-Type": "application/json"})
    assert r.status_code == 403
