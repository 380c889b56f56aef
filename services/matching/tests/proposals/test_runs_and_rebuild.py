"""National runs (dry-run vs binding), deadline expiry, and rebuilding the read model from the stream."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from herplaatsing.testing import eventually, headers_for
from services.matching.app.readmodel.rebuild import rebuild_read_model
from services.matching.tests.conftest import complex_spec, expiring, site
from shared.domain import Role
from shared.events.models import SiteUpdated


async def _snapshot(db):
    async with db.sessions() as s:
        placements = (await s.execute(sa.text(
            "SELECT placement_id, unit_count, end_date, complex_spec, demand_status FROM placements ORDER BY placement_id"))).all()
        plots = (await s.execute(sa.text(
            "SELECT site_id, version, status, capacity_units, reserved_units, snapshot FROM plots ORDER BY site_id"))).all()
    return placements, plots


async def test_dry_run_plans_without_binding_and_binding_run_creates_proposals(app_client, settings, publish):
    mm = headers_for(settings, Role.marktmeester)
    # demand first (no supply yet): it waits as shortfall
    demands = [expiring(complex_spec(unit_count=15)) for _ in range(3)]
    for d in demands:
        await publish("inventory.placement.expiring", d, d.placement_id)

    async def waiting():
        r = await app_client.get("/api/v1/stats/proposals", headers=mm)
        return r.json()["shortfall_units"] == 45
    await eventually(waiting)

    # supply arrives: waiting demand is retried at once (two complexes of 15 fit 30 places)
    plot = site(capacity=30)
    await publish("sites.site.published", plot, plot.site_id)

    async def proposals_count(n):
        r = await app_client.get("/api/v1/proposals", headers=mm)
        return len(r.json()["data"]) == n
    await eventually(lambda: proposals_count(2))  # 30 places: two complexes of 15

    r = await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})
    assert r.status_code == 201, r.text
    run = r.json()
    # all open demand: the waiting complex and the two with a pending proposal nobody accepted yet
    assert run["demand_units"] == 45 and run["housed_units"] == 30 and run["shortfall_units"] == 15
    assert run["shortfall"] == [{"province_code": "PV25", "quarter": "2027-Q2", "units": 15}]
    assert run["proposals_created"] == 0 and run["replaces"] == [] and run["kept_pending"] == 2
    assert run["demand_by_status"] == {"waiting": {"placements": 1, "homes": 15}, "proposed": {"placements": 2, "homes": 30}}

    bigger = site(capacity=20, lat=52.22)
    await publish("sites.site.published", bigger, bigger.site_id)
    await eventually(lambda: proposals_count(3))
    r = await app_client.post("/api/v1/matching/runs", headers={**mm, "Idempotency-Key": "run-1"}, json={"mode": "binding"})
    binding = r.json()
    assert r.status_code == 201 and binding["demand_units"] == 45 and binding["housed_units"] == 45
    # a plan equal to the pending proposals keeps them; a different one replaces them
    assert binding["kept_pending"] + len(binding["replaces"]) == 3 and binding["proposals_created"] == len(binding["replaces"])
    again = await app_client.post("/api/v1/matching/runs", headers={**mm, "Idempotency-Key": "run-1"}, json={"mode": "binding"})
    assert again.json()["id"] == r.json()["id"]
    listed = await app_client.get("/api/v1/matching/runs", headers=mm)
    assert len(listed.json()["data"]) == 2
    forbidden = await app_client.post("/api/v1/matching/runs", headers=headers_for(settings, Role.investor, "woonstad"), json={"mode": "dry_run"})
    assert forbidden.status_code == 403
    bad = await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "maybe"})
    assert bad.status_code == 400


async def test_rebuild_from_the_stream_equals_the_incremental_read_model(app_client, settings, publish):
    plot = site(capacity=30)
    await publish("sites.site.published", plot, plot.site_id)
    await publish("sites.site.updated", SiteUpdated(**{**plot.model_dump(), "version": 2, "capacity_units": 50}), plot.site_id)
    for _ in range(2):
        d = expiring(complex_spec(unit_count=10))
        await publish("inventory.placement.expiring", d, d.placement_id)

    async def built():  # folded, and both proposed by the background matcher
        placements, plots = await _snapshot(app_client.app.state.runtime.db)
        proposed = all(p.demand_status == "proposed" for p in placements)
        return len(placements) == 2 and proposed and len(plots) == 1 and plots[0].version == 2 and (placements, plots)
    incremental = await eventually(built)
    applied = await rebuild_read_model(settings, app_client.app.state.runtime.db, idle_timeout_s=0.5)
    assert applied == 6  # 4 inventory/sites events + the 2 matching.proposal.created the ledger folds
    assert await _snapshot(app_client.app.state.runtime.db) == incremental


async def test_moving_the_product_clock_expires_overdue_proposals_at_once_and_keeps_product_time(committed_databases, make_settings, publish):
    """ClockSet past a proposal's deadline: it expires right away (not at the next check), the demand is proposed
    again in product time; an old ClockSet redelivered later does not move the clock back; a restart keeps it."""
    from services.matching.app.config import MatchingSettings
    from services.matching.app.main import create_app
    from services.matching.tests.conftest import TODAY
    from herplaatsing.testing import running_app
    from shared.events.models import ClockSet

    # the periodic expiry check runs once at start only: what expires later was triggered by the clock
    s = make_settings(MatchingSettings, database_url=await committed_databases("matching"), today=TODAY,
                      consumer_fetch_timeout_s=0.2, outbox_poll_interval_s=0.05, expiry_check_interval_s=3600)
    publish.settings = s
    mm = headers_for(s, Role.marktmeester)
    app = create_app(s)
    async with running_app(app) as client:
        plot, other = site(capacity=10), site(capacity=10, lat=52.30)  # the other one for the second proposal
        await publish("sites.site.published", plot, plot.site_id)
        await publish("sites.site.published", other, other.site_id)
        d = expiring(complex_spec(unit_count=10))
        await publish("inventory.placement.expiring", d, d.placement_id)

        async def with_status(status):
            r = await client.get("/api/v1/proposals", headers=mm, params={"status": status})
            return r.json()["data"]
        [first] = await eventually(lambda: with_status("pending"))
        assert dt.datetime.fromisoformat(first["created_at"]).date() == TODAY

        later = TODAY + dt.timedelta(days=31)  # past the 30-day deadline
        await publish("inventory.clock.set", ClockSet(today=later, offset_days=31, version=1), "clock")
        [expired] = await eventually(lambda: with_status("expired"))
        assert expired["id"] == first["id"] and expired["placement_id"] == str(d.placement_id)
        [again] = await eventually(lambda: with_status("pending"))
        created, expires = dt.datetime.fromisoformat(again["created_at"]), dt.datetime.fromisoformat(again["expires_at"])
        assert created.date() == later and expires - created == dt.timedelta(days=30)

        # a late copy of an older ClockSet (same version, the old offset), and one beyond the product's range: applied nothing
        await publish("inventory.clock.set", ClockSet(today=TODAY, offset_days=0, version=1), "clock")
        await publish("inventory.clock.set", ClockSet(today=TODAY, offset_days=3_000_000, version=9), "clock")

        async def both_consumed():
            async with app.state.runtime.db.sessions() as session:
                return await session.scalar(sa.text("SELECT count(*) FROM processed_events WHERE event_type = 'inventory.clock.set'")) == 3
        await eventually(both_consumed)
        assert app.state.runtime.clock.today() == later
        await app.state.runtime.nc.close()

    restarted = create_app(s.model_copy(update={"start_background": False}))
    async with running_app(restarted):
        assert restarted.state.runtime.clock.today() == later

async def test_a_binding_run_supersedes_an_unanswered_proposal_it_plans_differently_and_leaves_an_accepted_one(
    app_client, settings, publish
):
    mm = headers_for(settings, Role.marktmeester)
    epe = site(gemeente="GM0232", capacity=20, lat=52.325, lon=5.954)  # a neighbouring municipality: region rung
    await publish("sites.site.published", epe, epe.site_id)
    d1 = expiring(complex_spec(unit_count=10))
    d2 = expiring(complex_spec(unit_count=10, investor_org="wonenplus"))
    for d in (d1, d2):
        await publish("inventory.placement.expiring", d, d.placement_id)

    async def pending_for(placement_id):
        r = await app_client.get("/api/v1/proposals", headers=mm, params={"placement": str(placement_id)})
        return [p for p in r.json()["data"] if p["status"] == "pending"]

    [p1] = await eventually(lambda: pending_for(d1.placement_id))
    [p2] = await eventually(lambda: pending_for(d2.placement_id))
    assert {a["site_id"] for a in p1["allocations"]} == {str(epe.site_id)}
    accepted = await app_client.post(f"/api/v1/proposals/{p2['id']}/accept", headers=headers_for(settings, Role.investor, "wonenplus"))
    assert accepted.status_code == 200, accepted.text  # one party accepted: no run may touch it now

    home = site(capacity=10)  # room in Apeldoorn itself: a better plan for d1, but nothing waits for it
    await publish("sites.site.published", home, home.site_id)

    async def plot_known():
        r = await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})
        return r.json()["replaces"] and r.json()

    dry = await eventually(plot_known)
    assert dry["replaces"] == [{"proposal_id": p1["id"], "placement_id": str(d1.placement_id), "reason": "different_allocation",
                                "current": [[str(epe.site_id), 10]], "planned": [[str(home.site_id), 10]]}]
    assert dry["demand_units"] == 10 and dry["proposals_created"] == 0  # d2 is not run demand: a party accepted it
    assert [p["id"] for p in await pending_for(d1.placement_id)] == [p1["id"]]  # a dry-run changes nothing

    r = await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "binding"})
    assert r.status_code == 201, r.text
    run = r.json()
    assert run["proposals_created"] == 1 and [x["proposal_id"] for x in run["replaces"]] == [p1["id"]]
    old = (await app_client.get(f"/api/v1/proposals/{p1['id']}", headers=mm)).json()
    assert (old["status"], old["reason"]) == ("withdrawn", f"superseded_by_run:{run['id']}")
    [new] = await pending_for(d1.placement_id)
    assert {a["site_id"] for a in new["allocations"]} == {str(home.site_id)}
    kept = (await app_client.get(f"/api/v1/proposals/{p2['id']}", headers=mm)).json()
    assert kept["status"] == "pending" and [p["accepted"] for p in kept["parties"]] == [True, False]
    assert {a["site_id"] for a in kept["allocations"]} == {str(epe.site_id)}
    assert run["demand_by_status"] == {"proposed": {"placements": 2, "homes": 20}}
    assert new["run_id"] == run["id"]
