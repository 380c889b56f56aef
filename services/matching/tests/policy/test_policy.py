"""The matching policy as data: read by every role, changed by the marktmeester with If-Match, used by the next proposal."""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa

from herplaatsing.testing import eventually, headers_for
from services.matching.app.db import bus_tables
from services.matching.tests.conftest import TODAY, complex_spec, expiring, site
from shared.domain import Role

DEFAULTS = {
    "storage_gap_months": 6, "min_follow_up_years": 10.0, "region_radius_km": 30.0, "horizon_months": 24,
    "proposal_deadline_days": 30, "min_group_before_ladder": True, "road_factor": 1.3, "transport_eur_per_unit_km": 4.0,
    "split_fixed_eur": 35000.0, "storage_eur_per_unit_month": 250.0, "relocation_cost_eur_per_unit": 30000.0,
    "site_prep_share": 0.5, "connection_share": 0.15, "min_group_penalty_eur": 60000.0, "ladder_step_per_unit": 200000.0,
    "garantiekavel_penalty_per_unit": 5000000.0,
}
PATH = "/api/v1/matching/policy"


async def _put(client, settings, parameters: dict, if_match: str | None = '"1"', role=Role.marktmeester, org: str | None = "rvo"):
    headers = headers_for(settings, role, org)
    if if_match is not None:
        headers["If-Match"] = if_match
    return await client.put(PATH, json={"parameters": parameters, "note": "test"}, headers=headers)


async def _outbox(settings, client, event_type: str) -> list[dict]:
    t = bus_tables.outbox
    async with client.app.state.runtime.db.sessions() as s:
        return [r[0]["data"] for r in await s.execute(sa.select(t.c.payload).where(t.c.event_type == event_type).order_by(t.c.seq))]


async def test_every_role_reads_the_policy_in_force_version_1_from_the_settings(app_client, settings):
    for role, org in ((Role.marktmeester, None), (Role.investor, "woonstad"), (Role.municipality, "GM0200")):
        r = await app_client.get(PATH, headers=headers_for(settings, role, org))
        assert r.status_code == 200, r.text
        body = r.json()
        assert body["version"] == 1 and body["set_by"] == "defaults" and r.headers["ETag"] == '"1"'
        assert body["parameters"] == DEFAULTS
    assert (await app_client.get(PATH)).status_code == 401


async def test_only_the_marktmeester_changes_it_and_only_with_the_version_read(app_client, settings):
    changed = {**DEFAULTS, "proposal_deadline_days": 14}
    assert (await _put(app_client, settings, changed, role=Role.investor, org="woonstad")).status_code == 403
    assert (await _put(app_client, settings, changed, if_match=None)).status_code == 428

    r = await _put(app_client, settings, changed)
    assert r.status_code == 200, r.text
    assert r.headers["ETag"] == '"2"'
    assert {k: r.json()[k] for k in ("version", "set_by", "set_by_org", "note")} == {"version": 2, "set_by": "tester", "set_by_org": "rvo", "note": "test"}
    stale = await _put(app_client, settings, {**DEFAULTS, "proposal_deadline_days": 20}, if_match='"1"')
    assert stale.status_code == 412
    assert (await app_client.get(PATH, headers=headers_for(settings, Role.investor, "woonstad"))).json()["parameters"] == changed

    [published] = await _outbox(settings, app_client, "matching.policy.changed")
    assert published["version"] == 2 and published["set_by"] == "tester" and published["parameters"] == changed

    mm = headers_for(settings, Role.marktmeester)
    first = await app_client.get(f"{PATH}/versions", headers=mm, params={"limit": 1})
    assert [v["version"] for v in first.json()["data"]] == [1]
    rest = await app_client.get(f"{PATH}/versions", headers=mm, params={"limit": 1, "cursor": first.json()["next_cursor"]})
    assert [v["version"] for v in rest.json()["data"]] == [2]
    assert (await app_client.get(f"{PATH}/versions/2", headers=mm)).json()["parameters"] == changed
    assert (await app_client.get(f"{PATH}/versions/3", headers=mm)).status_code == 404
    assert (await app_client.get(f"{PATH}/versions/0", headers=mm)).status_code == 400


async def test_a_bad_value_is_400_naming_the_parameter_and_changes_nothing(app_client, settings):
    for name, value in (("storage_gap_months", -1), ("min_follow_up_years", 0), ("site_prep_share", 1.5),
                        ("region_radius_km", "far"), ("proposal_deadline_days", 1000)):
        r = await _put(app_client, settings, {**DEFAULTS, name: value})
        assert r.status_code == 400, (name, r.text)
        assert [p["name"] for p in r.json()["invalidParams"]] == [f"parameters.{name}"]
    missing = {k: v for k, v in DEFAULTS.items() if k != "road_factor"}
    r = await _put(app_client, settings, missing)
    assert r.status_code == 400 and [p["name"] for p in r.json()["invalidParams"]] == ["parameters.road_factor"]
    r = await _put(app_client, settings, {**DEFAULTS, "no_such_weight": 1})
    assert r.status_code == 400 and [p["name"] for p in r.json()["invalidParams"]] == ["parameters.no_such_weight"]
    r = await app_client.get(PATH, headers=headers_for(settings, Role.marktmeester))
    assert r.json()["version"] == 1
    assert await _outbox(settings, app_client, "matching.policy.changed") == []


async def test_the_next_proposal_uses_the_new_version_and_records_it(app_client, settings, publish):
    mm = headers_for(settings, Role.marktmeester)
    # open for 8 years from the end of the placement (ow_bopa: no statutory maximum): short of the 10-year minimum
    plot = site(capacity=10, available_from=dt.date(2027, 6, 30), available_until=dt.date(2035, 6, 30))
    await publish("sites.site.published", plot, plot.site_id)
    first = expiring(complex_spec(unit_count=10))
    await publish("inventory.placement.expiring", first, first.placement_id)

    async def waiting():  # folded and tried (one transaction): no proposal came of it
        async with app_client.app.state.runtime.db.sessions() as s:
            return await s.scalar(sa.text("SELECT count(*) FROM placements WHERE placement_id = :id AND demand_status = 'waiting'"),
                                  {"id": first.placement_id})
    await eventually(waiting)
    assert (await app_client.get("/api/v1/proposals", headers=mm)).json()["data"] == []  # infeasible under version 1

    r = await _put(app_client, settings, {**DEFAULTS, "min_follow_up_years": 5.0, "proposal_deadline_days": 10})
    assert r.status_code == 200, r.text
    second = expiring(complex_spec(unit_count=10))
    await publish("inventory.placement.expiring", second, second.placement_id)

    async def proposed():
        return (await app_client.get("/api/v1/proposals", headers=mm)).json()["data"]
    [proposal] = await eventually(proposed)
    assert proposal["policy_version"] == 2 and proposal["cost"]["weights_version"] == 2
    created, expires = dt.datetime.fromisoformat(proposal["created_at"]), dt.datetime.fromisoformat(proposal["expires_at"])
    assert expires - created == dt.timedelta(days=10) and created.date() == TODAY
    [event] = await _outbox(settings, app_client, "matching.proposal.created")
    assert event["policy_version"] == 2

    run = await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})
    assert run.status_code == 201 and run.json()["policy_version"] == 2


async def test_two_changes_of_the_same_version_at_once_one_wins_the_other_is_412(app_client, settings):
    import asyncio

    results = await asyncio.gather(*[
        _put(app_client, settings, {**DEFAULTS, "proposal_deadline_days": days}) for days in (11, 12, 13)
    ])
    assert sorted(r.status_code for r in results) == [200, 412, 412], [r.text for r in results]
    versions = (await app_client.get(f"{PATH}/versions", headers=headers_for(settings, Role.marktmeester))).json()["data"]
    assert [v["version"] for v in versions] == [1, 2]
