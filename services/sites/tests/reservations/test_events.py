"""Through the real bus: matching's events in, reservation events out, redeliveries without effect."""

from __future__ import annotations

import orjson
import sqlalchemy as sa

from herplaatsing.testing import eventually
from services.sites.app.db import bus_tables
from services.sites.tests.conftest import EINDHOVEN, UTRECHT
from services.sites.tests.reservations.helpers import accepted, withdrawn
from shared.bus.nats import connect
from shared.bus.outbox import build_event


async def _publish(sites, event) -> int:
    """Publish as matching's relay would, without a Msg-Id: the broker stores every copy. Returns the stream seq."""
    nc = await connect(sites.settings)
    try:
        ack = await nc.jetstream().publish(sites.settings.subject(event.type), orjson.dumps(event.model_dump(mode="json")))
        return ack.seq
    finally:
        await nc.close()


async def _reserved(sites, site_id) -> int:
    r = await sites.client.get(f"/api/v1/sites/{site_id}", headers=sites.marktmeester)
    return r.json()["reserved_units"]


async def test_accepted_proposal_is_reserved_once_even_when_delivered_twice_and_released_on_withdrawal(live_sites):
    sites = live_sites
    a = await sites.publish(capacity_units=48)
    proposal = accepted([(a["id"], EINDHOVEN, 12)])
    event = build_event("matching", "matching.proposal.accepted", proposal.proposal_id, proposal)

    await _publish(sites, event)
    await eventually(lambda: _reserved(sites, a["id"]), timeout=15)
    duplicate_seq = await _publish(sites, event)  # the same event again (a replay)

    async def both_seen() -> bool:
        async with sites.runtime.db.sessions() as session:
            handled = await session.scalar(sa.select(sa.func.count()).select_from(bus_tables.processed_events))
        info = await sites.runtime.js.consumer_info(sites.settings.stream_name, sites.runtime.consumers[0].name)
        return handled == 1 and info.num_ack_pending == 0 and info.delivered.stream_seq >= duplicate_seq

    await eventually(both_seen, timeout=15)
    assert await _reserved(sites, a["id"]) == 12
    assert len(await sites.events("sites.reservation.confirmed")) == 1

    # the relay published our events: the confirmation is on the stream for inventory
    async def published() -> bool:
        async with sites.runtime.db.sessions() as session:
            pending = await session.scalar(
                sa.select(sa.func.count()).select_from(bus_tables.outbox).where(bus_tables.outbox.c.published_at.is_(None))
            )
        return pending == 0

    await eventually(published, timeout=15)

    await _publish(sites, build_event("matching", "matching.proposal.withdrawn", proposal.proposal_id, withdrawn(proposal)))

    async def released() -> bool:
        return await _reserved(sites, a["id"]) == 0

    await eventually(released, timeout=15)
    assert len(await sites.events("sites.reservation.released")) == 1


async def test_reservations_are_listed_by_role(sites):
    a = await sites.publish(capacity_units=48)
    b = await sites.publish(sites.municipality(UTRECHT), gemeente_code=UTRECHT, location={"lat": 52.09, "lon": 5.12}, capacity_units=20)
    from services.sites.tests.reservations.test_reserve import _reserve

    mine = await _reserve(sites, accepted([(a["id"], EINDHOVEN, 5), (b["id"], UTRECHT, 5)], investor="corporatie-a"))
    await _reserve(sites, accepted([(b["id"], UTRECHT, 3)], investor="corporatie-b"))

    async def listed(headers, query=""):
        r = await sites.client.get(f"/api/v1/reservations{query}", headers=headers)
        assert r.status_code == 200, r.text
        return r.json()["data"]

    assert len(await listed(sites.marktmeester)) == 2
    eindhoven = await listed(sites.municipality(EINDHOVEN))
    assert [r["id"] for r in eindhoven] == [str(mine.id)]
    assert eindhoven[0]["lines"] == [{"site_id": a["id"], "gemeente_code": EINDHOVEN, "units": 5}]  # own plots only
    assert len(await listed(sites.municipality(UTRECHT))) == 2
    assert [r["investor_org"] for r in await listed(sites.as_("investor", "corporatie-b"))] == ["corporatie-b"]
    assert len(await listed(sites.marktmeester, f"?site={a['id']}&status=confirmed")) == 1
    assert len(await listed(sites.marktmeester, "?status=released")) == 0

    url = f"/api/v1/reservations/{mine.id}"
    assert (await sites.client.get(url, headers=sites.as_("investor", "corporatie-a"))).status_code == 200
    assert (await sites.client.get(url, headers=sites.as_("investor", "corporatie-b"))).status_code == 404
    assert (await sites.client.get(url, headers=sites.municipality("GM0014"))).status_code == 404
    assert (await sites.client.get("/api/v1/reservations", headers=sites.anonymous)).status_code == 401
