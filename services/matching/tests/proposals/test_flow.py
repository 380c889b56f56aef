"""The product's flow through the real stream: expiring placement + published plot -> proposal -> acceptance."""

from __future__ import annotations

import uuid

import orjson

from herplaatsing.testing import eventually, headers_for
from services.matching.tests.conftest import complex_spec, expiring, site
from shared.bus.nats import connect
from shared.domain import Role
from shared.events import models as ev


async def _proposals(client, settings, role=Role.marktmeester, org=None, **params):
    r = await client.get("/api/v1/proposals", headers=headers_for(settings, role, org), params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def _stream_types(settings) -> list[dict]:
    nc = await connect(settings, name="test-reader")
    js = nc.jetstream()
    sub = await js.subscribe(settings.subject("matching.>"), ordered_consumer=True)
    out = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except Exception:
                break
            out.append(orjson.loads(msg.data))
    finally:
        await nc.close()
    return out


async def test_expiring_placement_gets_a_proposal_that_both_parties_accept(app_client, settings, publish):
    plot = site(capacity=40)
    await publish("sites.site.published", plot, plot.site_id)
    spec = complex_spec(unit_count=20)
    demand = expiring(spec)
    await publish("inventory.placement.expiring", demand, demand.placement_id)

    [proposal] = await eventually(lambda: _proposals(app_client, settings))
    assert proposal["placement_id"] == str(demand.placement_id)
    assert proposal["allocations"] == [{"site_id": str(plot.site_id), "gemeente_code": "GM0200", "units": 20,
                                        "distance_km": proposal["allocations"][0]["distance_km"], "rung": "gemeente"}]
    assert proposal["status"] == "pending" and proposal["rung"] == "gemeente"
    assert set(proposal["cost"]) >= {"transport_unit_km", "transport", "split", "storage", "readiness", "total"}
    assert {(p["role"], p["org"]) for p in proposal["parties"]} == {("investor", "woonstad"), ("municipality", "GM0200")}

    # scoping: another investor and another municipality see nothing and cannot act
    assert await _proposals(app_client, settings, Role.investor, "other-corp") == []
    assert await _proposals(app_client, settings, Role.municipality, "GM0363") == []
    r = await app_client.post(f"/api/v1/proposals/{proposal['id']}/accept", headers=headers_for(settings, Role.investor, "other-corp"))
    assert r.status_code == 404

    pid = proposal["id"]
    r = await app_client.post(f"/api/v1/proposals/{pid}/accept", headers=headers_for(settings, Role.investor, "woonstad"))
    assert r.status_code == 200 and r.json()["status"] == "pending"
    r = await app_client.post(f"/api/v1/proposals/{pid}/accept", headers=headers_for(settings, Role.municipality, "GM0200"))
    assert r.status_code == 200 and r.json()["status"] == "accepted"

    async def accepted_in_stream():
        events = await _stream_types(settings)
        return [e for e in events if e["type"] == "matching.proposal.accepted"]
    [accepted] = await eventually(accepted_in_stream)
    assert accepted["data"]["proposal_id"] == pid and accepted["data"]["allocations"][0]["units"] == 20

    # sites confirms, inventory schedules: the proposal follows
    confirmed = ev.ReservationConfirmed(
        reservation_id=uuid.uuid4(), proposal_id=uuid.UUID(pid), placement_id=demand.placement_id, complex_id=spec.complex_id,
        investor_org="woonstad", sites=[ev.ReservedSite(site_id=plot.site_id, gemeente_code="GM0200", units=20, capacity_units=40,
                                                        reserved_units=20, available_from=plot.available_from,
                                                        expected_instrument="ow_bopa", lat=plot.lat, lon=plot.lon)])
    await publish("sites.reservation.confirmed", confirmed)

    async def status():
        r = await app_client.get(f"/api/v1/proposals/{pid}", headers=headers_for(settings, Role.marktmeester))
        return r.json()["status"] == "reserved"
    await eventually(status)

    r = await app_client.get("/api/v1/stats/proposals", headers=headers_for(settings, Role.marktmeester))
    assert r.status_code == 200 and r.json()["proposals_by_status"]["reserved"] == 1


async def test_decline_returns_demand_and_reproposes_elsewhere_and_shortfall_is_reported(app_client, settings, publish):
    near = site(capacity=20)
    far = site(capacity=20, lat=52.30, lon=5.97)  # also Apeldoorn-ish coordinates, further away
    for s in (near, far):
        await publish("sites.site.published", s, s.site_id)
    await eventually(lambda: _plots(app_client, 2))
    demand = expiring(complex_spec(unit_count=20))
    await publish("inventory.placement.expiring", demand, demand.placement_id)
    [first] = await eventually(lambda: _proposals(app_client, settings))
    assert first["allocations"][0]["site_id"] == str(near.site_id)
    # the plot it did not use, and why: free and on the same rung, but further (transport costs more)
    assert [(x["site_id"], x["reasons"], x["rung"]) for x in first["passed_over"]] == [(str(far.site_id), ["cost"], "gemeente")]

    r = await app_client.post(f"/api/v1/proposals/{first['id']}/decline", headers=headers_for(settings, Role.municipality, "GM0200"),
                              json={"reason": "plot promised to starters"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    # the matcher proposes again shortly after (a background re-solve, not inside the request)
    [second] = await eventually(lambda: _proposals(app_client, settings, status="pending"))
    assert second["allocations"][0]["site_id"] == str(far.site_id)  # not the declined plot again

    r = await app_client.post(f"/api/v1/proposals/{second['id']}/decline", headers=headers_for(settings, Role.investor, "woonstad"))
    assert r.status_code == 200
    # the declined plot is out for this placement and the far plot's exact offer was just turned down

    async def shortfall_reported():
        stats = (await app_client.get("/api/v1/stats/proposals", headers=headers_for(settings, Role.marktmeester))).json()
        return stats["shortfall"] == [{"province_code": "PV25", "quarter": "2027-Q2", "units": 20}] and stats
    stats = await eventually(shortfall_reported)
    assert await _proposals(app_client, settings, status="pending") == []
    assert stats["proposals_by_status"]["declined"] == 2
    r = await app_client.post(f"/api/v1/proposals/{second['id']}/accept", headers=headers_for(settings, Role.investor, "woonstad"))
    assert r.status_code == 409

    # new supply in Epe: the waiting demand is proposed again
    epe = site(gemeente="GM0232", capacity=30, lat=52.35, lon=5.98)
    await publish("sites.site.published", epe, epe.site_id)
    [again] = await eventually(lambda: _proposals(app_client, settings, status="pending"))
    assert again["allocations"][0]["site_id"] == str(epe.site_id)


async def _plots(client, n):
    from services.matching.app.readmodel.models import PlotView
    import sqlalchemy as sa
    async with client.app.state.runtime.db.sessions() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(PlotView)) == n


async def test_reservation_rejected_withdraws_and_reproposes(app_client, settings, publish):
    a = site(capacity=20)
    await publish("sites.site.published", a, a.site_id)
    await eventually(lambda: _plots(app_client, 1))
    demand = expiring(complex_spec(unit_count=20))
    await publish("inventory.placement.expiring", demand, demand.placement_id)
    [p] = await eventually(lambda: _proposals(app_client, settings))
    b = site(capacity=25, lat=52.25)
    await publish("sites.site.published", b, b.site_id)
    await eventually(lambda: _plots(app_client, 2))
    rejected = ev.ReservationRejected(proposal_id=uuid.UUID(p["id"]), placement_id=demand.placement_id, reason="overbooked",
                                      short_sites=[ev.ShortSite(site_id=a.site_id, requested_units=20, free_units=0)])
    await publish("sites.reservation.rejected", rejected)

    async def reproposed():
        rows = await _proposals(app_client, settings)
        return len(rows) == 2 and rows
    rows = await eventually(reproposed)
    by_status = {r["status"]: r for r in rows}
    assert set(by_status) == {"withdrawn", "pending"}
    assert by_status["pending"]["allocations"][0]["site_id"] == str(b.site_id)
    events = [e["type"] for e in await _stream_types(settings)]
    assert "matching.proposal.withdrawn" in events


async def test_stale_site_snapshot_is_ignored(app_client, settings, publish):
    newer = site(capacity=0, version=3)
    older = ev.SiteUpdated(**{**newer.model_dump(), "version": 2, "capacity_units": 50})
    await publish("sites.site.published", newer, newer.site_id)
    await publish("sites.site.updated", older, older.site_id)
    await eventually(lambda: _plots(app_client, 1))
    demand = expiring(complex_spec(unit_count=10))
    await publish("inventory.placement.expiring", demand, demand.placement_id)

    async def shortfall():
        r = await app_client.get("/api/v1/stats/proposals", headers=headers_for(settings, Role.marktmeester))
        return r.json()["shortfall_units"] == 10
    await eventually(shortfall)
    assert await _proposals(app_client, settings) == []
