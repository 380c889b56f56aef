"""Reserving capacity on accepted proposals: all-or-nothing, never overbooked, released on withdrawal."""

from __future__ import annotations

import asyncio
import random

import pytest
import sqlalchemy as sa

from services.sites.app.reservations import service as reservations
from services.sites.tests.conftest import EINDHOVEN, UTRECHT
from services.sites.tests.reservations.helpers import accepted, withdrawn


async def _reserve(sites, data):
    async with sites.runtime.db.transaction() as session:
        return await reservations.reserve(session, sites.runtime, data)


async def _release(sites, data):
    async with sites.runtime.db.transaction() as session:
        return await reservations.release(session, sites.runtime, data)


async def _site(sites, site_id):
    return (await sites.client.get(f"/api/v1/sites/{site_id}", headers=sites.marktmeester)).json()


async def test_confirmation_holds_units_on_every_plot_and_tells_inventory_and_matching(sites):
    a = await sites.publish(capacity_units=48)
    b = await sites.publish(sites.municipality(UTRECHT), gemeente_code=UTRECHT, location={"lat": 52.09, "lon": 5.12}, capacity_units=20)
    proposal = accepted([(a["id"], EINDHOVEN, 30), (b["id"], UTRECHT, 18)])
    reservation = await _reserve(sites, proposal)
    assert reservation.status == "confirmed"

    a2, b2 = await _site(sites, a["id"]), await _site(sites, b["id"])
    assert (a2["reserved_units"], a2["free_units"], a2["version"]) == (30, 18, 2)
    assert (b2["reserved_units"], b2["free_units"], b2["version"]) == (18, 2, 2)

    [confirmed] = await sites.events("sites.reservation.confirmed")
    data = confirmed["data"]
    assert data["proposal_id"] == str(proposal.proposal_id) and data["complex_id"] == str(proposal.complex_id)
    assert data["investor_org"] == "woonstichting-a"
    assert {(s["site_id"], s["units"], s["reserved_units"]) for s in data["sites"]} == {(a["id"], 30, 30), (b["id"], 18, 18)}
    updates = await sites.events("sites.site.updated")
    assert {(u["data"]["site_id"], u["data"]["reserved_units"], u["data"]["version"]) for u in updates} == {
        (a["id"], 30, 2),
        (b["id"], 18, 2),
    }


async def test_not_enough_room_on_one_plot_rejects_the_whole_proposal(sites):
    a = await sites.publish(capacity_units=48)
    b = await sites.publish(capacity_units=5)
    proposal = accepted([(a["id"], EINDHOVEN, 10), (b["id"], EINDHOVEN, 6)])
    reservation = await _reserve(sites, proposal)
    assert reservation.status == "rejected" and reservation.reason == "insufficient_capacity"
    assert (await _site(sites, a["id"]))["reserved_units"] == 0  # nothing held anywhere
    [rejected] = await sites.events("sites.reservation.rejected")
    assert rejected["data"]["reason"] == "insufficient_capacity"
    assert rejected["data"]["short_sites"] == [{"site_id": b["id"], "requested_units": 6, "free_units": 5}]
    assert await sites.events("sites.site.updated") == []


async def test_a_withdrawn_or_unknown_plot_rejects(sites):
    a = await sites.publish(capacity_units=48)
    await sites.client.delete(f"/api/v1/sites/{a['id']}", headers=sites.municipality())
    reservation = await _reserve(sites, accepted([(a["id"], EINDHOVEN, 1)]))
    assert reservation.status == "rejected" and reservation.reason == "site_unavailable"
    [rejected] = await sites.events("sites.reservation.rejected")
    assert rejected["data"]["short_sites"][0]["free_units"] == 0


async def test_the_same_proposal_is_reserved_once(sites):
    a = await sites.publish(capacity_units=48)
    proposal = accepted([(a["id"], EINDHOVEN, 10)])
    first = await _reserve(sites, proposal)
    second = await _reserve(sites, proposal)  # e.g. matching re-emitted the acceptance with a new event id
    assert first.id == second.id
    assert (await _site(sites, a["id"]))["reserved_units"] == 10
    assert len(await sites.events("sites.reservation.confirmed")) == 1


@pytest.mark.committed  # concurrent transactions race for row locks
async def test_fifty_concurrent_acceptances_never_overbook(sites):
    """50 proposals race for two plots; each asks 3 homes on X and 2 on Y (in random order).
    X (30) has room for 10 of them, Y (40) for 20: exactly 10 may be confirmed."""
    x = await sites.publish(name="X", capacity_units=30)
    y = await sites.publish(name="Y", capacity_units=40)
    proposals = []
    for _ in range(50):
        allocations = [(x["id"], EINDHOVEN, 3), (y["id"], EINDHOVEN, 2)]
        random.shuffle(allocations)
        proposals.append(accepted(allocations))
    outcomes = await asyncio.gather(*[_reserve(sites, p) for p in proposals])  # each in its own transaction

    statuses = [r.status for r in outcomes]
    assert statuses.count("confirmed") == 10 and statuses.count("rejected") == 40
    x2, y2 = await _site(sites, x["id"]), await _site(sites, y["id"])
    assert x2["reserved_units"] == 30 and x2["free_units"] == 0
    assert y2["reserved_units"] == 20
    assert len(await sites.events("sites.reservation.confirmed")) == 10
    assert len(await sites.events("sites.reservation.rejected")) == 40
    async with sites.runtime.db.sessions() as session:
        held = await session.scalar(
            sa.text("SELECT sum(l.units) FROM reservation_lines l JOIN reservations r ON r.id = l.reservation_id "
                    "WHERE r.status = 'confirmed' AND l.site_id = :x"),
            {"x": x["id"]},
        )
    assert held == 30


async def test_the_database_refuses_overbooking_even_without_the_service(sites):
    a = await sites.publish(capacity_units=5)
    async with sites.runtime.db.sessions() as session:
        try:
            await session.execute(sa.text("UPDATE sites SET reserved_units = 6 WHERE id = :id"), {"id": a["id"]})
            await session.commit()
            raised = False
        except sa.exc.IntegrityError:
            raised = True
    assert raised


async def test_release_gives_the_units_back_and_unblocks_withdrawal(sites):
    a = await sites.publish(capacity_units=48)
    proposal = accepted([(a["id"], EINDHOVEN, 40)])
    await _reserve(sites, proposal)
    url = f"/api/v1/sites/{a['id']}"

    r = await sites.client.delete(url, headers=sites.municipality())
    assert r.status_code == 409 and "reserved" in r.json()["detail"]
    r = await sites.client.patch(url, json={"capacity_units": 39}, headers=sites.municipality())
    assert r.status_code == 409

    await _release(sites, withdrawn(proposal))
    await _release(sites, withdrawn(proposal))  # a second withdrawal changes nothing
    after = await _site(sites, a["id"])
    assert after["reserved_units"] == 0 and after["version"] == 3
    [released] = await sites.events("sites.reservation.released")
    assert released["data"]["sites"] == [{"site_id": a["id"], "units": 40, "reserved_units": 0}]
    assert [u["data"]["reserved_units"] for u in await sites.events("sites.site.updated")] == [40, 0]
    assert (await sites.client.delete(url, headers=sites.municipality())).status_code == 200


async def test_withdrawal_of_a_rejected_proposal_changes_nothing(sites):
    a = await sites.publish(capacity_units=2)
    proposal = accepted([(a["id"], EINDHOVEN, 3)])
    await _reserve(sites, proposal)
    assert await _release(sites, withdrawn(proposal)) is not None
    assert await sites.events("sites.reservation.released") == []
    assert (await _site(sites, a["id"]))["version"] == 1


async def test_a_refused_relocation_releases_the_capacity_once_with_the_reason(sites):
    import uuid

    from shared.bus.outbox import build_event
    from shared.events.models import RelocationRefused

    a = await sites.publish(capacity_units=48)
    proposal = accepted([(a["id"], EINDHOVEN, 40)])
    reservation = await _reserve(sites, proposal)
    refused = RelocationRefused(reservation_id=reservation.id, proposal_id=proposal.proposal_id, placement_id=proposal.placement_id,
                                reason="units_in_later_placement: 40 of the placement's homes now stand in a later placement")
    handle = sites.runtime.handlers["inventory.relocation.refused"]["inventory.relocation.refused"]  # the service's wiring
    for _ in range(2):  # a redelivery (another event id) releases nothing twice
        async with sites.runtime.db.transaction() as session:
            await handle(session, build_event("inventory", "inventory.relocation.refused", uuid.uuid4(), refused), refused)

    assert (await _site(sites, a["id"]))["reserved_units"] == 0
    [released] = await sites.events("sites.reservation.released")
    assert released["data"]["reason"] == f"relocation_refused: {refused.reason}"
    assert released["data"]["sites"] == [{"site_id": a["id"], "units": 40, "reserved_units": 0}]
    got = (await sites.client.get(f"/api/v1/reservations/{reservation.id}", headers=sites.marktmeester)).json()
    assert got["status"] == "released"
    await _release(sites, withdrawn(proposal))  # matching's withdrawal that follows: nothing more
    assert len(await sites.events("sites.reservation.released")) == 1


async def test_reservation_times_follow_the_product_clock_and_an_older_clockset_is_ignored(sites):
    import datetime as dt

    from services.sites.tests.conftest import TODAY
    from shared.bus.outbox import build_event
    from shared.events.models import ClockSet

    handle = sites.runtime.handlers["inventory.clock.set"]["inventory.clock.set"]

    async def clock_set(offset_days: int, version: int) -> None:
        data = ClockSet(today=TODAY + dt.timedelta(days=offset_days), offset_days=offset_days, version=version)
        async with sites.runtime.db.transaction() as session:
            await handle(session, build_event("inventory", "inventory.clock.set", "clock", data), data)

    await clock_set(400, version=2)
    await clock_set(0, version=1)  # older, delivered late: ignored
    a = await sites.publish(capacity_units=48)
    proposal = accepted([(a["id"], EINDHOVEN, 30)])
    reservation = await _reserve(sites, proposal)
    assert reservation.created_at.date() == TODAY + dt.timedelta(days=400)
    released = await _release(sites, withdrawn(proposal))
    assert released.released_at.date() == TODAY + dt.timedelta(days=400)
    # the plot opened 2027-06-01: in product time (2027-12-28) it counts in the current quarter, not in 2027-Q2
    stats = (await sites.client.get("/api/v1/stats/capacity", headers=sites.marktmeester)).json()
    assert [(q["quarter"], q["available_homes"]) for q in stats["capacity_by_quarter"]] == [("2027-Q4", 48)]
