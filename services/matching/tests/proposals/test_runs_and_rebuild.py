"""National runs (dry-run vs binding), deadline expiry, and rebuilding the read model from the stream."""

from __future__ import annotations

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
    assert run["demand_units"] == 15 and run["housed_units"] == 0 and run["shortfall_units"] == 15
    assert run["shortfall"] == [{"province_code": "PV25", "quarter": "2027-Q2", "units": 15}]
    assert run["proposals_created"] == 0

    bigger = site(capacity=20, lat=52.22)
    await publish("sites.site.published", bigger, bigger.site_id)
    await eventually(lambda: proposals_count(3))
    r = await app_client.post("/api/v1/matching/runs", headers={**mm, "Idempotency-Key": "run-1"}, json={"mode": "binding"})
    assert r.status_code == 201 and r.json()["demand_units"] == 0
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

    async def built():
        placements, plots = await _snapshot(app_client.app.state.runtime.db)
        return len(placements) == 2 and len(plots) == 1 and plots[0].version == 2 and (placements, plots)
    incremental = await eventually(built)
    applied = await rebuild_read_model(settings, app_client.app.state.runtime.db, idle_timeout_s=0.5)
    assert applied == 6  # 4 inventory/sites events + the 2 matching.proposal.created the ledger folds
    assert await _snapshot(app_client.app.state.runtime.db) == incremental


async def test_a_pending_proposal_past_its_deadline_expires_and_the_demand_returns(committed_databases, make_settings, publish):
    from services.matching.app.config import MatchingSettings
    from services.matching.app.main import create_app
    from services.matching.tests.conftest import TODAY
    from herplaatsing.testing import running_app

    # deadline of 0 days: every proposal is overdue at the next check
    s = make_settings(MatchingSettings, database_url=await committed_databases("matching"), today=TODAY, proposal_deadline_days=0,
                      consumer_fetch_timeout_s=0.2, outbox_poll_interval_s=0.05, expiry_check_interval_s=0.1)
    publish.settings = s
    app = create_app(s)
    async with running_app(app) as client:
        plot = site(capacity=10)
        await publish("sites.site.published", plot, plot.site_id)
        d = expiring(complex_spec(unit_count=10))
        await publish("inventory.placement.expiring", d, d.placement_id)

        async def expired():
            r = await client.get("/api/v1/proposals", headers=headers_for(s, Role.marktmeester), params={"status": "expired"})
            return r.json()["data"]
        [p] = await eventually(expired)
        assert p["placement_id"] == str(d.placement_id)
        await app.state.runtime.nc.close()
