"""Facts a municipality states about a plot beyond its capacity: promised homes, social rent, soft factors, vaste kern."""

from __future__ import annotations

import asyncio

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import create_async_engine

from herplaatsing.migrations import downgrade, upgrade
from shared.db import async_url
from services.sites.app.reservations import service as reservations
from services.sites.tests.conftest import EINDHOVEN, plot
from services.sites.tests.reservations.helpers import accepted


async def test_promised_homes_are_not_free_anywhere(sites):
    site = await sites.publish(capacity_units=48, promised_units=40)
    assert (site["capacity_units"], site["promised_units"], site["free_units"]) == (48, 40, 8)
    [published] = await sites.events("sites.site.published")
    assert published["data"]["promised_units"] == 40  # matching takes them off too
    fc = (await sites.client.get("/api/v1/map/sites.geojson", headers=sites.anonymous)).json()
    assert fc["features"][0]["properties"]["free_units"] == 8
    listed = (await sites.client.get("/api/v1/sites?minFreeUnits=9", headers=sites.anonymous)).json()["data"]
    assert listed == []

    # a proposal for 10 homes does not fit the 8 that are free
    async with sites.runtime.db.transaction() as session:
        reservation = await reservations.reserve(session, sites.runtime, accepted([(site["id"], EINDHOVEN, 10)]))
    assert reservation.status == "rejected" and reservation.reason == "insufficient_capacity"
    [rejected] = await sites.events("sites.reservation.rejected")
    assert rejected["data"]["short_sites"][0]["free_units"] == 8


async def test_capacity_cannot_drop_below_reserved_plus_promised(sites):
    site = await sites.publish(capacity_units=48, promised_units=40)
    async with sites.runtime.db.transaction() as session:
        await reservations.reserve(session, sites.runtime, accepted([(site["id"], EINDHOVEN, 8)]))
    url = f"/api/v1/sites/{site['id']}"
    r = await sites.client.patch(url, json={"promised_units": 41}, headers=sites.marktmeester)
    assert r.status_code == 409, r.text
    r = await sites.client.patch(url, json={"capacity_units": 47}, headers=sites.marktmeester)
    assert r.status_code == 409, r.text
    r = await sites.client.patch(url, json={"promised_units": 30}, headers=sites.marktmeester)
    assert r.status_code == 200 and r.json()["free_units"] == 10
    # and the database backs it up
    async with sites.runtime.db.sessions() as session:
        try:
            await session.execute(sa.text("UPDATE sites SET promised_units = 41 WHERE id = :id"), {"id": site["id"]})
            await session.commit()
            raised = False
        except sa.exc.IntegrityError:
            raised = True
    assert raised


async def test_a_plot_may_refuse_social_rent_and_matching_is_told(sites):
    site = await sites.publish(allows_social_rent=False, doelgroep_restrictions=["studenten"])
    assert site["allows_social_rent"] is False
    [event] = await sites.events("sites.site.published")
    assert event["data"]["allows_social_rent"] is False
    r = await sites.client.patch(f"/api/v1/sites/{site['id']}", json={"allows_social_rent": True}, headers=sites.marktmeester)
    assert r.status_code == 200 and r.json()["allows_social_rent"] is True
    [updated] = await sites.events("sites.site.updated")
    assert updated["data"]["allows_social_rent"] is True


async def test_noise_and_water_risk_are_soft_factors_and_military_land_a_hard_exclusion(sites):
    site = await sites.publish(exclusions=["military"], site_factors=["water_risk", "geluid"])
    assert site["exclusions"] == ["military"] and site["site_factors"] == ["geluid", "water_risk"]
    [event] = await sites.events("sites.site.published")
    assert event["data"]["exclusions"] == ["military"] and event["data"]["site_factors"] == ["geluid", "water_risk"]
    r = await sites.client.post("/api/v1/sites", json={**plot(), "exclusions": ["water_risk"]}, headers=sites.marktmeester)
    assert r.status_code == 400
    [param] = r.json()["invalidParams"]
    assert param["name"] == "exclusions.0" and "use site_factors" in param["reason"]


async def test_the_vaste_kern_stands_beside_the_spots_and_may_outnumber_them(sites):
    # the seeds: 1,890 permanent vaste-kern homes next to 1,360 spots; one cluster here: 70 beside 50
    site = await sites.publish(
        kind="garantiekavel", capacity_units=50,
        garantiekavel={"cluster_id": "GK-NB-2", "vaste_kern_units": 70, "reserved_until": "2045-12-31"},
    )
    assert site["garantiekavel"]["vaste_kern_units"] == 70 and site["free_units"] == 50


async def test_the_migration_moves_noise_and_water_risk_to_the_soft_factors(committed_databases):
    url = await committed_databases("sites")
    await asyncio.to_thread(downgrade, "sites", url, "0002")
    engine = create_async_engine(async_url(url))
    try:
        async with engine.begin() as conn:
            await conn.execute(sa.text(
                "INSERT INTO sites (id, status, version, gemeente_code, province_code, name, kind, lat, lon, rd_x, rd_y,"
                " capacity_units, reserved_units, available_from, expected_instrument, min_term_years, max_layers,"
                " allows_tijdelijk_bbl, allows_permanent, doelgroep_restrictions, social_rent_only, bouwrijp, utility_water,"
                " utility_electricity, utility_sewer, utility_heat, exclusions, created_by)"
                " VALUES (gen_random_uuid(), 'published', 1, 'GM0772', 'PV30', 'Oud', 'municipal', 51.44, 5.47, 161500, 383200,"
                " 48, 8, '2027-06-01', 'wabo_bor4_11', 0, 1, true, true, '{}', false, false, false, false, false, false,"
                " '{geluid,natura2000,water_risk}', 'seed')"
            ))
        await asyncio.to_thread(upgrade, "sites", url)
        async with engine.connect() as conn:
            row = (await conn.execute(sa.text(
                "SELECT exclusions, site_factors, allows_social_rent, promised_units, free_units FROM sites"
            ))).one()
        assert (row.exclusions, row.site_factors, row.allows_social_rent, row.promised_units, row.free_units) == (
            ["natura2000"], ["geluid", "water_risk"], True, 0, 40
        )
    finally:
        await engine.dispose()

