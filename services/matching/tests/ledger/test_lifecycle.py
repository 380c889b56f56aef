"""Matching follows the lifecycle of a home (issue #12): storage stays demand, fallback and closing end the
matching, a changed term is re-planned, remainders stay demand; the home ledger counts every home in
exactly one state after each event, and a rebuild from the stream gives the same ledger."""

from __future__ import annotations

import datetime as dt
import uuid

import sqlalchemy as sa

from herplaatsing.testing import eventually, headers_for
from services.matching.app.readmodel.rebuild import rebuild_read_model
from services.matching.tests.conftest import complex_spec, expiring, site
from services.matching.tests.proposals.test_flow import _stream_types
from shared.clock import add_months
from shared.domain import HomeState, Role
from shared.events import models as ev

END = dt.date(2027, 6, 30)


def created_for(d: ev.PlacementExpiring) -> ev.PlacementCreated:
    return ev.PlacementCreated(
        placement_id=d.placement_id, complex_id=d.complex.complex_id, investor_org=d.complex.investor_org,
        unit_ids=d.unit_ids, gemeente_code=d.gemeente_code, province_code=d.province_code, lat=d.lat, lon=d.lon,
        instrument=d.instrument, start_date=d.start_date, end_date=d.end_date)


async def place(publish, units: int = 20, expire: bool = True, **kw) -> ev.PlacementExpiring:
    """A complex placed (inventory.placement.created) and, unless told otherwise, signalled expiring."""
    spec = complex_spec(unit_count=units)
    d = expiring(spec, **kw)
    await publish("inventory.complex.registered", ev.ComplexRegistered(**spec.model_dump()), spec.complex_id)
    await publish("inventory.placement.created", created_for(d), d.placement_id)
    if expire:
        await publish("inventory.placement.expiring", d, d.placement_id)
    return d


async def ledger(client, settings, role=Role.marktmeester, org=None) -> dict:
    r = await client.get("/api/v1/ledger", headers=headers_for(settings, role, org))
    assert r.status_code == 200, r.text
    body = r.json()
    # the invariant: every home in exactly one state, the counts add up every way
    assert body["registered"] == body["accounted"] == sum(body["by_state"].values())
    assert body["registered"] == sum(p["homes"] for p in body["by_province"]) == body["in_books"] + body["left_books"]
    for s in HomeState:
        assert body["by_state"][s.value] == sum(p["by_state"][s.value] for p in body["by_province"])
    assert body["shortfall"] == sum(body["by_state"][s] for s in ("expiring", "in_storage", "fallback"))
    return body


async def ledger_is(client, settings, homes: int, /, **states: int) -> dict:
    """Wait until the ledger shows these counts (states not named: 0)."""
    want = {s.value: 0 for s in HomeState} | states

    async def check():
        body = await ledger(client, settings)
        return body["registered"] == homes and body["by_state"] == want and body
    return await eventually(check)


async def proposals(client, settings, **params) -> list[dict]:
    r = await client.get("/api/v1/proposals", headers=headers_for(settings, Role.marktmeester), params=params)
    assert r.status_code == 200, r.text
    return r.json()["data"]


async def accept(client, settings, proposal_id: str) -> None:
    for role, org in ((Role.investor, "woonstad"), (Role.municipality, "GM0200")):
        r = await client.post(f"/api/v1/proposals/{proposal_id}/accept", headers=headers_for(settings, role, org))
        assert r.status_code == 200, r.text
    assert r.json()["status"] == "accepted"


async def stats(client, settings) -> dict:
    return (await client.get("/api/v1/stats/proposals", headers=headers_for(settings, Role.marktmeester))).json()


def ended(d: ev.PlacementExpiring, relocated: bool = False) -> ev.PlacementEnded:
    return ev.PlacementEnded(placement_id=d.placement_id, complex_id=d.complex.complex_id, investor_org="woonstad",
                             end_date=d.end_date, relocated=relocated, unit_count=len(d.unit_ids), unit_ids=d.unit_ids,
                             storage_until=d.end_date + dt.timedelta(days=183))


async def withdrawn_reasons(settings) -> dict[str, str]:
    return {e["data"]["proposal_id"]: e["data"]["reason"] for e in await _stream_types(settings)
            if e["type"] == "matching.proposal.withdrawn"}


async def test_a_placement_ended_unrelocated_is_stored_and_stays_demand_until_proposed(app_client, settings, publish):
    d = await place(publish)
    body = await ledger_is(app_client, settings, 20, expiring=20)
    assert body["shortfall"] == 20

    await publish("inventory.placement.ended", ended(d), d.placement_id)
    await ledger_is(app_client, settings, 20, in_storage=20)

    async def still_demand():
        s = await stats(app_client, settings)
        return s["open_demand_units"] == 20 and s["shortfall_units"] == 20
    await eventually(still_demand)
    mm = headers_for(settings, Role.marktmeester)
    run = (await app_client.post("/api/v1/matching/runs", headers=mm, json={"mode": "dry_run"})).json()
    assert run["demand_units"] == 20  # national runs see the stored homes

    # a plot opening two months after the end (inside the storage gap): the stored homes are proposed
    plot = site(capacity=30, available_from=END + dt.timedelta(days=61))
    await publish("sites.site.published", plot, plot.site_id)
    [proposal] = await eventually(lambda: proposals(app_client, settings))
    assert proposal["status"] == "pending" and proposal["unit_count"] == 20
    assert proposal["cost"]["storage_months"] > 0  # the solver counts the storage months
    body = await ledger_is(app_client, settings, 20, proposed=20)
    assert body["shortfall"] == 0


async def test_a_pending_proposal_still_feasible_survives_the_end_of_the_term(app_client, settings, publish):
    plot = site(capacity=20)
    await publish("sites.site.published", plot, plot.site_id)
    d = await place(publish)
    [proposal] = await eventually(lambda: proposals(app_client, settings))
    await ledger_is(app_client, settings, 20, proposed=20)

    await publish("inventory.placement.ended", ended(d), d.placement_id)
    other = await place(publish, units=5)  # a later event: once it is folded, the ended one was too
    await ledger_is(app_client, settings, 25, proposed=20, expiring=5)
    assert [p["id"] for p in await proposals(app_client, settings, status="pending")] == [proposal["id"]]
    assert await withdrawn_reasons(settings) == {}
    assert other.placement_id != d.placement_id


async def test_fallback_withdraws_and_closing_withdraws_even_an_accepted_proposal(app_client, settings, publish):
    plot = site(capacity=20)
    await publish("sites.site.published", plot, plot.site_id)
    first = await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))
    assert p1["placement_id"] == str(first.placement_id)

    await publish("inventory.placement.ended", ended(first), first.placement_id)
    fallback = ev.PlacementFallback(
        placement_id=first.placement_id, complex_id=first.complex.complex_id, investor_org="woonstad",
        unit_ids=first.unit_ids, gemeente_code="GM0200", storage_since=END,
        claim=ev.FallbackClaim(valuation_eur=1e6, guaranteed_eur=1.2e6, gap_eur=2e5, rijk_eur=1.2e5, gemeente_eur=5e4,
                               investor_eur=3e4))
    await publish("inventory.placement.fallback", fallback, first.placement_id)
    body = await ledger_is(app_client, settings, 20, fallback=20)
    assert body["shortfall"] == 20  # offered for sale: no plot
    assert (await eventually(lambda: withdrawn_reasons(settings))) == {p1["id"]: "fallback"}

    # the freed plot goes to the next demand, not back to the fallback placement
    second = await place(publish)
    [p2] = await eventually(lambda: proposals(app_client, settings, status="pending"))
    assert p2["placement_id"] == str(second.placement_id)
    await accept(app_client, settings, p2["id"])
    await ledger_is(app_client, settings, 40, fallback=20, agreed=20)

    closed = ev.PlacementClosed(placement_id=second.placement_id, complex_id=second.complex.complex_id,
                                investor_org="woonstad", unit_ids=second.unit_ids, gemeente_code="GM0200",
                                end_state="sold", closed_on=dt.date(2027, 1, 15), reason="sold to a housing association")
    await publish("inventory.placement.closed", closed, second.placement_id)
    body = await ledger_is(app_client, settings, 40, fallback=20, sold=20)
    assert body["left_books"] == 20 and body["in_books"] == 20
    reasons = await eventually(lambda: withdrawn_reasons(settings))
    assert reasons[p2["id"]] == "placement_closed: sold"  # sites releases the reserved capacity on this


async def test_a_changed_term_withdraws_the_pending_proposal_and_replans(app_client, settings, publish):
    plot = site(capacity=20)
    await publish("sites.site.published", plot, plot.site_id)
    d = await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))

    def updated(end: dt.date, previous: dt.date) -> ev.PlacementUpdated:
        return ev.PlacementUpdated(placement_id=d.placement_id, complex_id=d.complex.complex_id, investor_org="woonstad",
                                   unit_ids=d.unit_ids, gemeente_code="GM0200", instrument=d.instrument,
                                   start_date=d.start_date, end_date=end, previous_end_date=previous)

    # stayed by extension, far beyond the horizon: no demand now
    await publish("inventory.placement.updated", updated(dt.date(2035, 6, 30), END), d.placement_id)
    await ledger_is(app_client, settings, 20, in_place=20)
    assert (await eventually(lambda: withdrawn_reasons(settings))) == {p1["id"]: "placement_changed"}
    assert await proposals(app_client, settings, status="pending") == []
    assert (await stats(app_client, settings))["open_demand_units"] == 0

    # shortened back into the horizon: proposed again, for the new end date
    await publish("inventory.placement.updated", updated(dt.date(2027, 9, 30), dt.date(2035, 6, 30)), d.placement_id)
    [p2] = await eventually(lambda: proposals(app_client, settings, status="pending"))
    assert p2["id"] != p1["id"] and p2["move_window_start"] == "2027-09-30"
    await ledger_is(app_client, settings, 20, proposed=20)


async def _ledger_rows(db) -> list:
    async with db.sessions() as s:
        return (await s.execute(sa.text(
            "SELECT unit_id, placement_id, complex_id, investor_org, gemeente_code, province_code, phase, stage,"
            " proposal_id, state, since, reason FROM home_ledger ORDER BY unit_id"))).all()


async def test_a_remainder_stays_demand_through_acceptance_relocation_and_move_and_rebuilds_equal(
    app_client, settings, publish,
):
    small = site(capacity=12)
    await publish("sites.site.published", small, small.site_id)
    d = await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))
    assert p1["unit_count"] == 20 and p1["shortfall_units"] == 8
    body = await ledger_is(app_client, settings, 20, proposed=12, expiring=8)
    assert body["shortfall"] == 8

    await accept(app_client, settings, p1["id"])
    await ledger_is(app_client, settings, 20, agreed=12, expiring=8)
    s = await stats(app_client, settings)
    assert s["shortfall_units"] == 8 and s["open_demand_units"] == 8  # the remainder, not lost after acceptance

    # supply appears: the remainder gets a proposal of its own, beside the accepted part
    more = site(capacity=10, lat=52.22)
    await publish("sites.site.published", more, more.site_id)
    p2 = await eventually(lambda: proposals(app_client, settings, status="pending"))
    assert len(p2) == 1 and p2[0]["unit_count"] == 8 and p2[0]["shortfall_units"] == 0
    assert p2[0]["allocations"][0]["site_id"] == str(more.site_id)
    body = await ledger_is(app_client, settings, 20, agreed=12, proposed=8)
    assert body["shortfall"] == 0

    confirmed = ev.ReservationConfirmed(
        reservation_id=uuid.uuid4(), proposal_id=uuid.UUID(p1["id"]), placement_id=d.placement_id,
        complex_id=d.complex.complex_id, investor_org="woonstad",
        sites=[ev.ReservedSite(site_id=small.site_id, gemeente_code="GM0200", units=12, capacity_units=12, reserved_units=12,
                               available_from=small.available_from, expected_instrument="ow_bopa", lat=small.lat,
                               lon=small.lon)])
    await publish("sites.reservation.confirmed", confirmed)
    await ledger_is(app_client, settings, 20, reserved=12, proposed=8)

    # inventory names the homes that move: not the ones the ledger counted first (it takes the lowest ids)
    moving = sorted(d.unit_ids)[8:]
    new_placement = uuid.uuid4()
    scheduled = ev.RelocationScheduled(
        relocation_id=uuid.uuid4(), proposal_id=uuid.UUID(p1["id"]), placement_id=d.placement_id,
        complex_id=d.complex.complex_id, investor_org="woonstad", move_window_start=END,
        move_window_end=END + dt.timedelta(days=30),
        allocations=[ev.RelocatedAllocation(site_id=small.site_id, gemeente_code="GM0202", unit_ids=moving,
                                            new_placement_id=new_placement)])
    await publish("inventory.relocation.scheduled", scheduled)
    await ledger_is(app_client, settings, 20, relocation_scheduled=12, proposed=8)
    started = ev.PlacementStarted(placement_id=new_placement, complex_id=d.complex.complex_id, investor_org="woonstad",
                                  unit_ids=moving, gemeente_code="GM0202", start_date=END + dt.timedelta(days=10))
    await publish("inventory.placement.started", started, new_placement)
    await ledger_is(app_client, settings, 20, moved=12, proposed=8)

    db = app_client.app.state.runtime.db
    rows = await _ledger_rows(db)
    assert {r.unit_id for r in rows if r.state == "moved"} == set(moving)
    assert {r.proposal_id for r in rows if r.state == "proposed"} == {uuid.UUID(p2[0]["id"])}
    assert {(r.gemeente_code, r.placement_id) for r in rows if r.state == "moved"} == {("GM0202", new_placement)}

    # scoped views: an investor its own homes, a municipality the homes in its gemeente
    assert (await ledger(app_client, settings, Role.investor, "woonstad"))["registered"] == 20
    assert (await ledger(app_client, settings, Role.investor, "other-corp"))["registered"] == 0
    assert (await ledger(app_client, settings, Role.municipality, "GM0202"))["by_state"]["moved"] == 12
    assert (await ledger(app_client, settings, Role.municipality, "GM0200"))["registered"] == 8

    # the drill-down per placement, filtered and paginated
    mm = headers_for(settings, Role.marktmeester)
    r = await app_client.get("/api/v1/ledger/placements", headers=mm, params={"limit": 1})
    assert r.status_code == 200 and len(r.json()["data"]) == 1 and r.json()["next_cursor"]
    page2 = await app_client.get("/api/v1/ledger/placements", headers=mm, params={"limit": 1, "cursor": r.json()["next_cursor"]})
    both = r.json()["data"] + page2.json()["data"]
    assert {p["placement_id"] for p in both} == {str(d.placement_id), str(new_placement)} and not page2.json()["next_cursor"]
    r = await app_client.get("/api/v1/ledger/placements", headers=mm, params={"state": "moved"})
    [moved] = r.json()["data"]
    assert moved["placement_id"] == str(new_placement) and moved["homes"] == 12 and moved["by_state"]["moved"] == 12
    assert moved["complex_id"] == str(d.complex.complex_id)
    r = await app_client.get("/api/v1/ledger/placements", headers=mm,
                             params={"complexId": str(d.complex.complex_id), "province": "PV25", "state": "proposed"})
    assert [(p["placement_id"], p["by_state"]["proposed"]) for p in r.json()["data"]] == [(str(d.placement_id), 8)]
    for bad in ({"state": "lost"}, {"province": "Gelderland"}, {"complexId": "x"}, {"cursor": "junk"}):
        r = await app_client.get("/api/v1/ledger/placements", headers=mm, params=bad)
        assert r.status_code == 400 and r.headers["content-type"].startswith("application/problem+json"), bad

    # rebuilt from the stream (inventory, sites and matching's own proposal events): the same ledger
    await eventually(lambda: _all_published(settings))
    applied = await rebuild_read_model(settings, db, idle_timeout_s=0.5)
    assert applied > 0
    assert await _ledger_rows(db) == rows
    await ledger_is(app_client, settings, 20, moved=12, proposed=8)


async def _all_published(settings) -> bool:
    """The relay has put matching's own events on the stream (the rebuild reads them from there)."""
    types = [e["type"] for e in await _stream_types(settings)]
    return types.count("matching.proposal.created") == 2 and "matching.proposal.accepted" in types


async def test_a_pending_proposal_opening_after_the_storage_period_is_withdrawn_and_a_decline_returns_homes(
    app_client, settings, publish,
):
    late = site(capacity=20, available_from=END + dt.timedelta(days=60))
    await publish("sites.site.published", late, late.site_id)
    d = await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))
    assert p1["move_window_start"] == str(END + dt.timedelta(days=60))

    # inventory's storage period ends before the plot opens: the proposal cannot hold
    short = ended(d).model_copy(update={"storage_until": END + dt.timedelta(days=30)})
    await publish("inventory.placement.ended", short, d.placement_id)
    reasons = await eventually(lambda: withdrawn_reasons(settings))
    assert reasons == {p1["id"]: "placement_ended: plot opens after the storage period"}
    body = await ledger_is(app_client, settings, 20, in_storage=20)
    assert body["shortfall"] == 20
    assert await proposals(app_client, settings, status="pending") == []  # not offered again as it was



async def test_a_declined_proposal_returns_its_homes_to_expiring(app_client, settings, publish):
    near = site(capacity=20)
    await publish("sites.site.published", near, near.site_id)
    d = await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))
    await ledger_is(app_client, settings, 20, proposed=20)
    r = await app_client.post(f"/api/v1/proposals/{p1['id']}/decline", headers=headers_for(settings, Role.municipality, "GM0200"),
                              json={"reason": "raad akkoord nodig"})
    assert r.status_code == 200 and r.json()["status"] == "declined"
    body = await ledger_is(app_client, settings, 20, expiring=20)  # the gemeente's plots are excluded for it now
    assert body["shortfall"] == 20
    [row] = (await app_client.get("/api/v1/ledger/placements", headers=headers_for(settings, Role.investor, "woonstad"))).json()["data"]
    assert row["placement_id"] == str(d.placement_id) and row["by_state"]["expiring"] == 20


async def test_moved_homes_expire_again_with_their_follow_up_placement(app_client, settings, publish):
    d = await place(publish, units=4, expire=False)
    await ledger_is(app_client, settings, 4, in_place=4)
    follow_up = expiring(d.complex, gemeente="GM0202", end=dt.date(2028, 3, 31))
    follow_up = follow_up.model_copy(update={"unit_ids": d.unit_ids})
    started = ev.PlacementStarted(placement_id=follow_up.placement_id, complex_id=d.complex.complex_id, investor_org="woonstad",
                                  unit_ids=d.unit_ids, gemeente_code="GM0202", start_date=dt.date(2026, 10, 1))
    await publish("inventory.placement.started", started, follow_up.placement_id)
    await ledger_is(app_client, settings, 4, moved=4)
    await publish("inventory.placement.expiring", follow_up, follow_up.placement_id)
    await ledger_is(app_client, settings, 4, expiring=4)
    await publish("inventory.placement.ended", ended(follow_up), follow_up.placement_id)
    body = await ledger_is(app_client, settings, 4, in_storage=4)
    assert body["shortfall"] == 4 and [p["province_code"] for p in body["by_province"]] == ["PV25"]


async def test_homes_of_a_complex_not_yet_placed_are_counted_as_registered_then_in_place(app_client, settings, publish):
    spec = complex_spec(unit_count=6)
    units = [uuid.uuid4() for _ in range(6)]
    await publish("inventory.complex.registered", ev.ComplexRegistered(**spec.model_dump(), unit_ids=units), spec.complex_id)
    body = await ledger_is(app_client, settings, 6, registered=6)
    assert body["shortfall"] == 0 and body["in_books"] == 6  # on the books, not demand
    r = await app_client.get("/api/v1/ledger/placements", headers=headers_for(settings, Role.marktmeester))
    assert r.json()["data"] == []  # no placement to show yet

    d = expiring(spec, end=dt.date(2034, 6, 30)).model_copy(update={"unit_ids": units})
    await publish("inventory.placement.created", created_for(d), d.placement_id)
    await ledger_is(app_client, settings, 6, in_place=6)
    [row] = (await app_client.get("/api/v1/ledger/placements", headers=headers_for(settings, Role.marktmeester))).json()["data"]
    assert (row["placement_id"], row["gemeente_code"], row["homes"]) == (str(d.placement_id), d.gemeente_code, 6)


async def test_the_remainder_is_proposed_right_after_the_acceptance_on_supply_that_came_meanwhile(app_client, settings, publish):
    small = site(capacity=12)
    await publish("sites.site.published", small, small.site_id)
    await place(publish)
    [p1] = await eventually(lambda: proposals(app_client, settings))
    assert p1["shortfall_units"] == 8
    # supply appears while the first part is still pending: one pending proposal per placement, so it waits
    more = site(capacity=10, lat=52.22)
    await publish("sites.site.published", more, more.site_id)
    await eventually(lambda: _plot_known_and_no_rematch_outstanding(app_client, more.site_id))
    assert [p["id"] for p in await proposals(app_client, settings)] == [p1["id"]]

    await accept(app_client, settings, p1["id"])  # no further event: the acceptance itself asks for the remainder
    [p2] = await eventually(lambda: proposals(app_client, settings, status="pending"))
    assert p2["unit_count"] == 8 and p2["allocations"][0]["site_id"] == str(more.site_id)
    await ledger_is(app_client, settings, 20, agreed=12, proposed=8)


async def _plot_known_and_no_rematch_outstanding(app_client, site_id: uuid.UUID) -> bool:
    """The plot is folded and the re-solve it asked for is served (the matcher deletes the request as it solves)."""
    async with app_client.app.state.runtime.db.sessions() as session:
        known = await session.scalar(sa.text("SELECT count(*) FROM plots WHERE site_id = :s"), {"s": site_id})
        return known == 1 and await session.scalar(sa.text("SELECT count(*) FROM rematch_requests")) == 0


async def test_the_solver_keeps_to_the_storage_period_inventory_set_not_the_policys_gap(app_client, settings, publish):
    """Inventory stored the homes for nine months (its storage period); the policy's gap is six. A plot opening
    eight months after the end is in time for these homes; one opening after the nine months is not."""
    d = await place(publish)
    await publish("inventory.placement.ended", ended(d).model_copy(update={"storage_until": add_months(END, 9)}), d.placement_id)
    await ledger_is(app_client, settings, 20, in_storage=20)
    too_late = site(capacity=30, available_from=add_months(END, 10))
    await publish("sites.site.published", too_late, too_late.site_id)
    await eventually(lambda: _plot_known_and_no_rematch_outstanding(app_client, too_late.site_id))
    assert await proposals(app_client, settings) == []

    in_time = site(capacity=30, available_from=add_months(END, 8), lat=52.22)
    await publish("sites.site.published", in_time, in_time.site_id)
    [proposal] = await eventually(lambda: proposals(app_client, settings))
    assert proposal["allocations"][0]["site_id"] == str(in_time.site_id) and proposal["unit_count"] == 20
