"""Relocation: sites.reservation.confirmed records the plan and the follow-up placements, once."""

from __future__ import annotations

import datetime as dt
import uuid

import orjson
import sqlalchemy as sa

from services.inventory.app.db import bus_tables
from services.inventory.tests.conftest import place, register
from shared.bus.consumer import Consumer
from shared.bus.nats import connect
from shared.bus.outbox import build_event
from shared.events.models import ReservationConfirmed, ReservedSite

SITE_A, SITE_B = uuid.uuid4(), uuid.uuid4()


def confirmation(placement: dict, complex_: dict, reservation_id: uuid.UUID) -> ReservationConfirmed:
    return ReservationConfirmed(
        reservation_id=reservation_id,
        proposal_id=uuid.uuid4(),
        placement_id=placement["id"],
        complex_id=complex_["id"],
        investor_org=complex_["investor_org"],
        sites=[
            # Wro plot opening after the old term: 5-year maximum, open-ended plot.
            ReservedSite(site_id=SITE_A, gemeente_code="GM0228", units=6, capacity_units=20, reserved_units=6,
                         available_from="2028-09-01", available_until=None, expected_instrument="wro_voorlopig", lat=52.05, lon=5.66),
            # Permanent plot already open, closing end 2031.
            ReservedSite(site_id=SITE_B, gemeente_code="GM0363", units=4, capacity_units=4, reserved_units=4,
                         available_from="2027-01-01", available_until="2031-12-31", expected_instrument="permanent", lat=52.37, lon=4.89),
        ],
    )


async def _publish(inventory, data: ReservationConfirmed, raw: bytes | None = None) -> bytes:
    js = inventory.runtime.js
    payload = raw or orjson.dumps(build_event("sites", "sites.reservation.confirmed", data.reservation_id, data).model_dump(mode="json"))
    await js.publish(inventory.settings.subject("sites.reservation.confirmed"), payload)  # no Msg-Id: the stream keeps repeats
    return payload


async def _drain(inventory) -> None:
    """Run the service's own durable consumer (its handlers) until the stream is drained.

    It uses a connection of its own that is closed, not drained: nats-py's drain waits out
    its 30 s timeout when an expired pull request's status message is still queued.
    """
    nc = await connect(inventory.settings)
    try:
        subject = "sites.reservation.confirmed"
        handlers = inventory.runtime.handlers[subject]
        consumer = Consumer(inventory.runtime.db, bus_tables, nc.jetstream(), inventory.settings, subject, handlers)
        while await consumer.fetch_and_handle():
            pass
    finally:
        await nc.close()


async def test_confirmed_reservation_records_the_plan_and_follow_up_placements_once(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    old = await place(inventory, c["id"], end_date="2028-06-30")
    data = confirmation(old, c, uuid.uuid4())
    raw = await _publish(inventory, data)
    await _publish(inventory, data, raw)  # the same event delivered twice
    await _publish(inventory, data.model_copy(update={"proposal_id": uuid.uuid4()}))  # a new event for the same reservation
    await _drain(inventory)

    [scheduled] = await inventory.outbox("inventory.relocation.scheduled")
    plan = scheduled["data"]
    assert plan["placement_id"] == old["id"] and plan["move_window_start"] == "2028-06-30" and plan["move_window_end"] == "2028-09-01"
    by_site = {a["site_id"]: a for a in plan["allocations"]}
    assert len(by_site[str(SITE_A)]["unit_ids"]) == 6 and len(by_site[str(SITE_B)]["unit_ids"]) == 4
    assert set(by_site[str(SITE_A)]["unit_ids"]) | set(by_site[str(SITE_B)]["unit_ids"]) == set(old["unit_ids"])

    created = {e["data"]["site_id"]: e["data"] for e in await inventory.outbox("inventory.placement.created") if e["data"]["site_id"]}
    a, b = created[str(SITE_A)], created[str(SITE_B)]
    assert (a["start_date"], a["end_date"], a["sequence_no"]) == ("2028-09-01", "2033-09-01", 2)  # Wro: 5 years
    assert (b["start_date"], b["end_date"], b["sequence_no"]) == ("2028-06-30", "2031-12-31", 2)  # until the plot closes
    assert await inventory.scalar("SELECT count(*) FROM placements") == 3
    assert await inventory.scalar("SELECT count(*) FROM relocations") == 1

    got = (await inventory.client.get(f"/api/v1/placements/{old['id']}", headers=inventory.headers())).json()
    assert got["relocation_id"] == plan["relocation_id"]
    # Until the old term ends the homes stay in use.
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    assert {u["status"] for u in units} == {"in_use"}

    # After the end date: the placement ended relocated; homes at the open plot are in use, the rest in transit.
    await inventory.client.patch("/api/v1/clock", json={"today": "2028-07-15"}, headers=inventory.marktmeester)
    # (the move ran the expiry scan it implies)
    [ended] = await inventory.outbox("inventory.placement.ended")
    assert ended["data"]["relocated"] is True
    # The relocated placement never signalled expiry (it was followed up before the scan).
    assert [e["data"]["placement_id"] for e in await inventory.outbox("inventory.placement.expiring")] == []
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    statuses = {u["id"]: u["status"] for u in units}
    assert {statuses[u] for u in by_site[str(SITE_B)]["unit_ids"]} == {"in_use"}
    assert {statuses[u] for u in by_site[str(SITE_A)]["unit_ids"]} == {"in_transit"}


async def test_relocations_are_scoped(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    old = await place(inventory, c["id"], end_date="2028-06-30")
    await _publish(inventory, confirmation(old, c, uuid.uuid4()))
    await _drain(inventory)

    async def count(headers) -> int:
        response = await inventory.client.get("/api/v1/relocations", headers=headers)
        assert response.status_code == 200
        return len(response.json()["data"])

    assert await count(inventory.headers()) == 1
    assert await count(inventory.headers(org="other-corp")) == 0
    assert await count(inventory.headers(role="municipality", org="GM0363")) == 1  # receives homes
    assert await count(inventory.headers(role="municipality", org="GM0014")) == 0
    assert await count(inventory.marktmeester) == 1


async def test_valuation_book_value_and_rthf_claim_until_a_follow_up_is_found(inventory):
    c = await register(inventory)  # 48 homes, build 2023, 120k each, 30 years, RTHF garantiebedrag 62k
    old = await place(inventory, c["id"], start_date="2023-06-01", end_date="2028-06-30")
    url = f"/api/v1/complexes/{c['id']}/valuation"
    v = (await inventory.client.get(url, params={"saleEurPerUnit": 40_000}, headers=inventory.headers())).json()
    years = (dt.date(2026, 11, 23) - dt.date(2023, 6, 1)).days / 365.2425
    assert abs(v["book_value_eur_per_unit"] - 120_000 * (1 - years / 30)) < 1
    assert v["depreciation_start_date"] == "2023-06-01" and v["units"] == 48
    assert 46 < v["remaining_technical_life_years"] < 47  # 50 years from 1 Jan 2023
    claim = v["rthf_claim"]
    assert claim["applies"] is True and claim["gap_eur_per_unit"] == 22_000 and claim["gap_eur_total"] == 1_056_000
    assert (claim["rijk_eur"], claim["gemeente_eur"], claim["investor_eur"]) == (633_600, 264_000, 158_400)

    # A sale above the guarantee leaves nothing to claim; municipalities may not value an investor's homes.
    assert (await inventory.client.get(url, params={"saleEurPerUnit": 70_000}, headers=inventory.headers())).json()["rthf_claim"]["gap_eur_total"] == 0
    assert (await inventory.client.get(url, headers=inventory.headers(role="municipality", org="GM0228"))).status_code == 403
    assert (await inventory.client.get(url, params={"saleEurPerUnit": -1}, headers=inventory.headers())).status_code == 400

    await _publish(inventory, confirmation(old, {**c, "id": c["id"]}, uuid.uuid4()))
    await _drain(inventory)
    v = (await inventory.client.get(url, params={"saleEurPerUnit": 40_000}, headers=inventory.headers())).json()
    assert v["follow_up_scheduled"] is True and v["rthf_claim"]["applies"] is False


def test_follow_up_term_is_bounded_by_the_plot_and_the_instrument_or_defaults_to_ten_years():
    from services.inventory.app.relocations.service import follow_up_term

    def site(instrument: str, available_from: str, available_until: str | None) -> ReservedSite:
        return ReservedSite(site_id=uuid.uuid4(), gemeente_code="GM0228", units=1, capacity_units=1, reserved_units=1,
                            available_from=available_from, available_until=available_until, expected_instrument=instrument, lat=52, lon=5.7)

    end = dt.date(2030, 3, 31)
    assert follow_up_term(end, site("ow_bopa", "2029-01-01", None), 10) == (end, dt.date(2040, 3, 31))
    assert follow_up_term(end, site("wabo_bor4_11", "2031-01-01", "2050-01-01"), 10) == (dt.date(2031, 1, 1), dt.date(2041, 1, 1))
    assert follow_up_term(end, site("permanent", "2029-01-01", "2034-06-30"), 10) == (end, dt.date(2034, 6, 30))


def confirmation_of(placement: dict, complex_: dict, *units: int) -> ReservationConfirmed:
    """A confirmation for `units` homes on each of as many open plots."""
    return ReservationConfirmed(
        reservation_id=uuid.uuid4(), proposal_id=uuid.uuid4(), placement_id=placement["id"], complex_id=complex_["id"],
        investor_org=complex_["investor_org"],
        sites=[
            ReservedSite(site_id=uuid.uuid4(), gemeente_code="GM0363", units=n, capacity_units=n, reserved_units=n,
                         available_from="2027-01-01", available_until="2040-12-31", expected_instrument="permanent", lat=52.37, lon=4.89)
            for n in units
        ],
    )


async def _refusals(inventory) -> list[dict]:
    return [e["data"] for e in await inventory.outbox("inventory.relocation.refused")]


async def test_a_placement_is_relocated_in_parts_and_a_confirmation_beyond_its_homes_is_refused(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    old = await place(inventory, c["id"], end_date="2028-06-30")
    first = confirmation_of(old, c, 6)
    await _publish(inventory, first)
    await _drain(inventory)
    second = confirmation_of(old, c, 3)  # the remainder's own proposal, later
    await _publish(inventory, second)
    await _publish(inventory, first)  # a redelivery of the first: nothing new
    await _drain(inventory)

    plans = [e["data"] for e in await inventory.outbox("inventory.relocation.scheduled")]
    assert [p["proposal_id"] for p in plans] == [str(first.proposal_id), str(second.proposal_id)]
    moved = [set(p["allocations"][0]["unit_ids"]) for p in plans]
    assert len(moved[0]) == 6 and len(moved[1]) == 3 and not moved[0] & moved[1]
    assert moved[0] | moved[1] < set(old["unit_ids"])
    assert await _refusals(inventory) == []

    # One home is left; a confirmation of two is refused, with no relocation and its reason.
    third = confirmation_of(old, c, 2)
    await _publish(inventory, third)
    await _drain(inventory)
    [refused] = await _refusals(inventory)
    assert refused["reservation_id"] == str(third.reservation_id) and refused["proposal_id"] == str(third.proposal_id)
    assert refused["reason"] == "too_many_homes: 2 homes confirmed, 1 not yet relocated"
    assert await inventory.scalar("SELECT count(*) FROM relocations") == 2
    assert await inventory.scalar("SELECT outcome FROM processed_events WHERE event_id = :e",
                                  e=await inventory.scalar("SELECT event_id FROM processed_events WHERE outcome IS NOT NULL")) == "refused"
    assert await inventory.scalar("SELECT count(*) FROM dead_letters") == 0

    last = confirmation_of(old, c, 1)  # the last home still goes
    await _publish(inventory, last)
    await _drain(inventory)
    assert await inventory.scalar("SELECT count(*) FROM relocations") == 3
    got = (await inventory.client.get(f"/api/v1/placements/{old['id']}", headers=inventory.headers())).json()
    assert got["relocation_id"] == plans[0]["relocation_id"]  # the first part


async def test_homes_the_investor_placed_later_meanwhile_refuse_the_confirmation(inventory):
    c = await register(inventory, unit_count=4, min_group_size=1)
    old = await place(inventory, c["id"], start_date="2023-06-01", end_date="2028-06-30")
    # The investor records where the homes go next, before the reservation is confirmed.
    await place(inventory, c["id"], start_date="2028-06-30", end_date="2033-06-29")
    data = confirmation_of(old, c, 4)
    await _publish(inventory, data)
    await _drain(inventory)
    [refused] = await _refusals(inventory)
    assert refused["reason"].startswith("units_in_later_placement: 4 of the placement's homes now stand in a later placement")
    assert await inventory.scalar("SELECT count(*) FROM relocations") == 0
    assert await inventory.scalar("SELECT count(*) FROM placements") == 2
    assert await inventory.scalar("SELECT count(*) FROM dead_letters") == 0
    assert await inventory.scalar("SELECT detail FROM processed_events") == refused["reason"]

    unknown = confirmation_of({**old, "id": str(uuid.uuid4())}, c, 1)
    await _publish(inventory, unknown)
    await _drain(inventory)
    assert (await _refusals(inventory))[-1]["reason"] == f"unknown_placement: placement {unknown.placement_id} is not in the inventory"
    assert await inventory.scalar("SELECT count(*) FROM dead_letters") == 0


async def test_the_homes_a_plan_left_behind_are_stored_at_the_end_and_fall_back_after_the_storage_period(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    old = await place(inventory, c["id"], end_date="2028-06-30")
    await _publish(inventory, confirmation_of(old, c, 6))  # a plan for six of the ten homes
    await _drain(inventory)
    [plan] = [e["data"] for e in await inventory.outbox("inventory.relocation.scheduled")]
    moving = set(plan["allocations"][0]["unit_ids"])
    left = [u for u in old["unit_ids"] if u not in moving]

    async def jump(today: str) -> dict:
        r = await inventory.client.patch("/api/v1/clock", json={"today": today}, headers=inventory.marktmeester)
        assert r.status_code == 200, r.text
        await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)
        return (await inventory.client.get(f"/api/v1/placements/{old['id']}", headers=inventory.headers())).json()

    got = await jump("2028-08-01")  # past the end: six homes moved, four stored
    assert (got["lifecycle"], got["storage_since"], got["storage_until"]) == ("in_storage", "2028-06-30", "2028-12-30")
    [ended] = [e["data"] for e in await inventory.outbox("inventory.placement.ended")]
    assert ended["relocated"] is True and ended["storage_until"] == "2028-12-30"
    status = dict(await _unit_statuses(inventory, old["unit_ids"]))
    assert {status[u] for u in left} == {"stored"} and {status[u] for u in moving} == {"in_use"}

    got = await jump("2029-02-01")  # past the storage period: the four left behind fall back, the six do not
    assert got["lifecycle"] == "fallback"
    [fallback] = [e["data"] for e in await inventory.outbox("inventory.placement.fallback")]
    assert fallback["unit_ids"] == left  # the valuation and the RTHF claim are for these four


async def _unit_statuses(inventory, unit_ids: list[str]) -> list[tuple[str, str]]:
    async with inventory.runtime.db.sessions() as s:
        rows = await s.execute(sa.text("SELECT id::text, status FROM units WHERE id::text = ANY(:ids)"), {"ids": unit_ids})
        return [tuple(r) for r in rows]


async def test_a_plan_from_storage_for_part_of_the_homes_leaves_the_rest_stored_to_fall_back(inventory):
    c = await register(inventory, unit_count=10, min_group_size=1)
    old = await place(inventory, c["id"], end_date="2028-06-30")

    async def jump(today: str) -> dict:
        r = await inventory.client.patch("/api/v1/clock", json={"today": today}, headers=inventory.marktmeester)
        assert r.status_code == 200, r.text
        await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)
        return (await inventory.client.get(f"/api/v1/placements/{old['id']}", headers=inventory.headers())).json()

    assert (await jump("2028-08-01"))["lifecycle"] == "in_storage"  # ended without a plan
    await _publish(inventory, confirmation_of(old, c, 6))  # then a plot for six of the ten
    await _drain(inventory)
    [plan] = [e["data"] for e in await inventory.outbox("inventory.relocation.scheduled")]
    left = [u for u in old["unit_ids"] if u not in set(plan["allocations"][0]["unit_ids"])]

    got = await jump("2028-09-01")  # the six have moved: the four stay stored, in the same storage period
    assert (got["lifecycle"], got["storage_until"]) == ("in_storage", "2028-12-30")
    got = await jump("2029-01-15")
    assert got["lifecycle"] == "fallback"
    [fallback] = [e["data"] for e in await inventory.outbox("inventory.placement.fallback")]
    assert fallback["unit_ids"] == left
