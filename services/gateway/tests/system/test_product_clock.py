"""One product clock and one matching policy across the services: moved or changed once, followed by all (through the bus)."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from herplaatsing.testing import eventually
from services.gateway.tests.system.conftest import TODAY, System
from services.matching.app.main import create_app as matching_app
from services.sites.app.main import create_app as sites_app
from shared.domain import Role


async def _scalar(system: System, service: str, sql: str) -> object:
    async with system.services[service].state.runtime.db.sessions() as session:
        return await session.scalar(sa.text(sql))


async def test_moving_the_clock_moves_sites_and_matching_too_and_a_restart_keeps_it(system: System) -> None:
    marktmeester = system.as_(Role.marktmeester)
    later = TODAY + dt.timedelta(days=400)
    moved = await system.ok("PATCH", "/clock", marktmeester, json={"today": str(later)})
    assert moved == {"today": str(later), "offset_days": 400}

    async def followed() -> bool:
        return all(system.services[name].state.runtime.clock.today() == later for name in ("sites", "matching"))
    await eventually(followed)
    for name in ("sites", "matching"):
        assert await _scalar(system, name, "SELECT offset_days FROM product_clock") == 400

    # a restarted service (new app on the same database, no bus yet) starts at the product's today
    for name, factory in (("sites", sites_app), ("matching", matching_app)):
        settings = system.services[name].state.runtime.settings.model_copy(update={"start_background": False})
        again = factory(settings)
        async with again.router.lifespan_context(again):
            assert again.state.runtime.clock.today() == later, name

    # and back: the newer ClockSet wins in every follower
    await system.ok("PATCH", "/clock", marktmeester, json={"offset_days": 0})

    async def back() -> bool:
        return all(system.services[name].state.runtime.clock.today() == TODAY for name in ("sites", "matching"))
    await eventually(back)


async def test_a_policy_change_moves_the_inventorys_expiry_horizon(system: System) -> None:
    marktmeester = system.as_(Role.marktmeester)
    r = await system.client.get("/api/v1/matching/policy", headers=system.as_(Role.investor, "woonstad"))
    assert r.status_code == 200 and r.headers["ETag"] == '"1"'
    parameters = {**r.json()["parameters"], "horizon_months": 36}
    scan = await system.ok("POST", "/expiry-scans", marktmeester)
    assert scan["horizon_date"] == str(TODAY.replace(year=TODAY.year + 2))

    changed = await system.client.put("/api/v1/matching/policy", headers={**marktmeester, "If-Match": '"1"'}, json={"parameters": parameters})
    assert changed.status_code == 200, changed.text
    assert changed.headers["ETag"] == '"2"'

    async def followed() -> bool:
        return await _scalar(system, "inventory", "SELECT version FROM followed_policy") == 2
    await eventually(followed)
    scan = await system.ok("POST", "/expiry-scans", marktmeester)
    assert scan["horizon_date"] == str(TODAY.replace(year=TODAY.year + 3))
    history = await system.ok("GET", "/matching/policy/versions", marktmeester)
    assert [v["version"] for v in history["data"]] == [1, 2]
