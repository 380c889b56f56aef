"""The placement lifecycle: storage, the RTHF fallback, end states, stay by extension, follow-ups starting."""

from __future__ import annotations

import asyncio
import datetime as dt
import uuid

import pytest

from services.inventory.app.clock import service as clock
from services.inventory.app.expiry.service import scan
from services.inventory.app.placements import lifecycle
from services.inventory.app.placements.lifecycle import IllegalTransition, Lifecycle
from services.inventory.app.relocations.service import schedule
from services.inventory.tests.conftest import place, register
from services.inventory.tests.relocations.test_relocations import confirmation


async def _scan(inventory) -> dict:
    response = await inventory.client.post("/api/v1/expiry-scans", headers=inventory.marktmeester)
    assert response.status_code == 200, response.text
    return response.json()


async def _clock(inventory, today: str) -> None:
    """Move the product clock without the scan PATCH /clock runs after it, so each test sees what one scan does."""
    async with inventory.runtime.transaction() as session:
        await clock.move(session, inventory.runtime, offset_days=None, to=dt.date.fromisoformat(today), set_by="test")


async def _get(inventory, placement_id: str, headers: dict | None = None):
    return await inventory.client.get(f"/api/v1/placements/{placement_id}", headers=headers or inventory.headers())


async def _units(inventory, complex_id: str) -> set[str]:
    units = (await inventory.client.get(f"/api/v1/complexes/{complex_id}/units", headers=inventory.headers())).json()["data"]
    return {u["status"] for u in units}


async def _events(inventory, placement_id: str) -> list[tuple[str, dict]]:
    """This placement's lifecycle events in outbox order."""
    rows = await inventory.outbox()
    return [(e["type"], e["data"]) for e in rows if e["data"].get("placement_id") == placement_id and e["type"] != "inventory.placement.created"]


def test_the_transition_table_rejects_an_illegal_transition():
    class Row:
        lifecycle = Lifecycle.closed_sold.value

    with pytest.raises(IllegalTransition) as refused:
        lifecycle.advance(Row(), Lifecycle.active)
    assert refused.value.status == 409 and "closed_sold cannot become active" in refused.value.detail
    assert Row.lifecycle == "closed_sold"  # unchanged
    assert not lifecycle.allowed(Lifecycle.relocation_scheduled, Lifecycle.closed_dismantled)
    assert not lifecycle.allowed(Lifecycle.active, Lifecycle.fallback)  # storage comes first
    assert lifecycle.sources(Lifecycle.fallback) == ["in_storage"]
    row = Row()
    row.lifecycle = "in_storage"
    assert lifecycle.advance(row, Lifecycle.fallback) is Lifecycle.in_storage and row.lifecycle == "fallback"


async def test_a_five_year_clock_jump_stores_then_falls_back_each_step_once_and_in_order(inventory):
    # Built for 80k a home, written off over 30 years: worth less than the 62k garantiebedrag after 8 years.
    early = await register(inventory, unit_count=3, min_group_size=1, build_cost_eur_per_unit=80_000)
    late = await register(inventory, unit_count=2, min_group_size=1)
    past_storage = await place(inventory, early["id"], end_date="2027-06-30")
    recently_ended = await place(inventory, late["id"], end_date="2031-10-20")  # 34 days before the new today

    await _clock(inventory, "2031-11-23")
    result = await _scan(inventory)
    assert (result["expiring_emitted"], result["ended_emitted"], result["fallback_emitted"]) == (2, 2, 1)

    events = await _events(inventory, past_storage["id"])
    assert [t for t, _ in events] == ["inventory.placement.expiring", "inventory.placement.ended", "inventory.placement.fallback"]
    ended, fallback = events[1][1], events[2][1]
    assert ended["relocated"] is False and ended["storage_until"] == "2027-12-30"
    assert sorted(ended["unit_ids"]) == sorted(past_storage["unit_ids"])
    assert fallback["storage_since"] == "2027-06-30" and fallback["gemeente_code"] == "GM0228"
    assert sorted(fallback["unit_ids"]) == sorted(past_storage["unit_ids"])

    # The claim: the complex's valuation on the same day against the garantiebedrag, the gap split 60/25/15.
    valuation = (await inventory.client.get(f"/api/v1/complexes/{early['id']}/valuation", headers=inventory.headers())).json()
    value = valuation["book_value_eur_per_unit"] * 3
    gap = 62_000 * 3 - value
    claim = fallback["claim"]
    assert claim["valuation_eur"] == pytest.approx(value, abs=0.01) and claim["guaranteed_eur"] == 186_000
    assert claim["gap_eur"] == pytest.approx(gap, abs=0.01) and gap > 0
    assert (claim["rijk_eur"], claim["gemeente_eur"], claim["investor_eur"]) == pytest.approx((0.6 * gap, 0.25 * gap, 0.15 * gap), abs=0.01)

    # 34 days past its end: in storage, still demand, no fallback yet.
    assert [t for t, _ in await _events(inventory, recently_ended["id"])] == ["inventory.placement.expiring", "inventory.placement.ended"]
    stored = (await _get(inventory, recently_ended["id"])).json()
    assert (stored["lifecycle"], stored["storage_since"], stored["storage_until"], stored["fallback_claim"]) == (
        "in_storage", "2031-10-20", "2032-04-20", None
    )
    fell_back = (await _get(inventory, past_storage["id"], inventory.headers("municipality", "GM0228"))).json()
    assert fell_back["lifecycle"] == "fallback" and fell_back["fallback_claim"] == claim
    assert (await _get(inventory, past_storage["id"], inventory.headers("municipality", "GM0363"))).status_code == 404
    assert await _units(inventory, early["id"]) == {"stored"} and await _units(inventory, late["id"]) == {"stored"}

    before = len(await inventory.outbox())
    again = await _scan(inventory)
    assert (again["expiring_emitted"], again["ended_emitted"], again["fallback_emitted"], again["started_emitted"]) == (0, 0, 0, 0)
    assert len(await inventory.outbox()) == before


async def test_the_end_state_closes_the_placement_once_for_its_owner(inventory):
    c = await register(inventory, unit_count=4, min_group_size=1)
    p = await place(inventory, c["id"], end_date="2029-05-31")
    url = f"/api/v1/placements/{p['id']}/end-state"
    body = {"end_state": "dismantled", "reason": "Technical end of life"}

    assert (await inventory.client.post(url, json=body, headers=inventory.headers(org="other-corporatie"))).status_code == 404  # not theirs to see
    assert (await inventory.client.post(url, json=body, headers=inventory.headers("municipality", "GM0228"))).status_code == 403
    bad = await inventory.client.post(url, json={"end_state": "burnt"}, headers=inventory.headers())
    assert bad.status_code == 400 and bad.json()["invalidParams"][0]["name"] == "end_state"
    assert (await inventory.client.post(f"/api/v1/placements/{uuid.uuid4()}/end-state", json=body, headers=inventory.headers())).status_code == 404

    key = {"Idempotency-Key": "close-1"}
    closed = await inventory.client.post(url, json=body, headers=inventory.headers(**key))
    assert closed.status_code == 200, closed.text
    assert closed.json()["lifecycle"] == "closed_dismantled" and closed.json()["closed_on"] == "2026-11-23"
    replay = await inventory.client.post(url, json=body, headers=inventory.headers(**key))
    assert replay.status_code == 200 and replay.json() == closed.json()

    [event] = await inventory.outbox("inventory.placement.closed")
    assert event["data"] == {
        "placement_id": p["id"], "complex_id": c["id"], "investor_org": "woonstede", "unit_ids": p["unit_ids"],
        "gemeente_code": "GM0228", "end_state": "dismantled", "closed_on": "2026-11-23", "reason": "Technical end of life",
    }
    assert await _units(inventory, c["id"]) == {"dismantled"}
    again = await inventory.client.post(url, json={"end_state": "sold"}, headers=inventory.headers())
    assert again.status_code == 409 and again.json()["lifecycle"] == "closed_dismantled"
    assert (await inventory.client.patch(f"/api/v1/placements/{p['id']}", json={"end_date": "2030-01-01"}, headers=inventory.headers())).status_code == 409
    assert len(await inventory.outbox("inventory.placement.closed")) == 1
    # Closed homes are no longer signalled.
    await _clock(inventory, "2030-01-01")
    assert (await _scan(inventory))["ended_emitted"] == 0


async def test_stay_by_extension_with_if_match_is_signalled_again_for_the_new_end_date(inventory):
    c = await register(inventory, unit_count=2, min_group_size=1)
    p = await place(inventory, c["id"], end_date="2028-06-30")
    url = f"/api/v1/placements/{p['id']}"
    assert (await _scan(inventory))["expiring_emitted"] == 1
    got = await _get(inventory, p["id"])
    assert got.headers["ETag"] == '"1"' and got.json()["lifecycle"] == "expiring"

    beyond = await inventory.client.patch(url, json={"end_date": "2033-06-02"}, headers=inventory.headers(**{"If-Match": '"1"'}))
    assert beyond.status_code == 400 and [x["name"] for x in beyond.json()["invalidParams"]] == ["end_date"]
    assert "10-year maximum" in beyond.json()["invalidParams"][0]["reason"]
    assert (await inventory.client.patch(url, json={"end_date": "2033-01-01"}, headers=inventory.headers(org="other-corporatie"))).status_code == 404
    assert (await inventory.client.patch(url, json={"end_date": "2033-01-01"}, headers=inventory.headers("municipality", "GM0228"))).status_code == 403
    for bad in ({"end_date": "2033-02-30"}, {"end_date": 2033}, {"start_date": "2024-01-01"}, {"permit_reference": "x" * 121}):
        answer = await inventory.client.patch(url, json=bad, headers=inventory.headers())
        assert answer.status_code == 400 and answer.json()["invalidParams"][0]["name"] == next(iter(bad)), (bad, answer.text)
    nothing = await inventory.client.patch(url, json={}, headers=inventory.headers())
    assert nothing.status_code == 200 and nothing.headers["ETag"] == '"1"'

    extended = await inventory.client.patch(url, json={"end_date": "2033-05-31"}, headers=inventory.headers(**{"If-Match": '"1"'}))
    assert extended.status_code == 200, extended.text
    assert extended.headers["ETag"] == '"2"'
    assert (extended.json()["lifecycle"], extended.json()["end_date"], extended.json()["expiring_emitted_at"]) == ("active", "2033-05-31", None)
    stale = await inventory.client.patch(url, json={"permit_reference": "OLO-9"}, headers=inventory.headers(**{"If-Match": '"1"'}))
    assert stale.status_code == 412
    assert (await _get(inventory, p["id"])).json()["permit_reference"] == "OLO-4711"  # the stale edit changed nothing
    [updated] = await inventory.outbox("inventory.placement.updated")  # the empty and refused edits wrote none
    assert updated["data"]["previous_end_date"] == "2028-06-30" and updated["data"]["end_date"] == "2033-05-31"
    assert sorted(updated["data"]["unit_ids"]) == sorted(p["unit_ids"])

    assert (await _scan(inventory))["expiring_emitted"] == 0  # beyond the horizon now
    await _clock(inventory, "2031-06-01")
    assert (await _scan(inventory))["expiring_emitted"] == 1
    assert (await _scan(inventory))["expiring_emitted"] == 0
    signals = [d["end_date"] for t, d in await _events(inventory, p["id"]) if t == "inventory.placement.expiring"]
    assert signals == ["2028-06-30", "2033-05-31"]


async def test_an_extension_returns_stored_homes_to_in_place(inventory):
    c = await register(inventory, unit_count=2, min_group_size=1)
    p = await place(inventory, c["id"], end_date="2027-01-31")
    await _clock(inventory, "2027-02-15")
    assert (await _scan(inventory))["ended_emitted"] == 1
    assert (await _get(inventory, p["id"])).json()["lifecycle"] == "in_storage" and await _units(inventory, c["id"]) == {"stored"}

    extended = await inventory.client.patch(f"/api/v1/placements/{p['id']}", json={"end_date": "2031-01-31"}, headers=inventory.marktmeester)
    assert extended.status_code == 200, extended.text
    body = extended.json()
    assert (body["lifecycle"], body["status"], body["storage_since"], body["storage_until"]) == ("active", "active", None, None)
    assert await _units(inventory, c["id"]) == {"in_use"}
    past = await inventory.client.patch(f"/api/v1/placements/{p['id']}", json={"end_date": "2027-02-01"}, headers=inventory.marktmeester)
    assert past.status_code == 400 and past.json()["invalidParams"][0]["name"] == "end_date"


async def test_a_follow_up_placement_starts_once_after_the_old_term_ended(inventory):
    c = await register(inventory, unit_count=12, min_group_size=1)  # the plan takes 10: two homes are left over
    old = await place(inventory, c["id"], end_date="2028-06-30")
    data = confirmation(old, c, uuid.uuid4())
    async with inventory.runtime.transaction() as session:
        relocation = await schedule(session, inventory.runtime, data)
        assert relocation is not None
        relocation_id = str(relocation.id)
    assert (await _get(inventory, old["id"])).json()["lifecycle"] == "relocation_scheduled"
    closing = await inventory.client.post(f"/api/v1/placements/{old['id']}/end-state", json={"end_state": "sold"}, headers=inventory.headers())
    assert closing.status_code == 409
    assert (await inventory.client.patch(f"/api/v1/placements/{old['id']}", json={"end_date": "2029-01-01"}, headers=inventory.headers())).status_code == 409
    follow_ups = {
        e["data"]["site_id"]: e["data"]["placement_id"] for e in await inventory.outbox("inventory.placement.created") if e["data"]["site_id"]
    }
    site_a, site_b = follow_ups[str(data.sites[0].site_id)], follow_ups[str(data.sites[1].site_id)]
    assert (await _get(inventory, site_b)).json()["lifecycle"] == "scheduled"

    await _clock(inventory, "2028-07-15")  # B opened on the old end date, A opens 2028-09-01
    result = await _scan(inventory)
    assert (result["ended_emitted"], result["started_emitted"]) == (1, 1)
    types = [(e["type"], e["data"]["placement_id"]) for e in await inventory.outbox() if e["type"] in ("inventory.placement.ended", "inventory.placement.started")]
    assert types == [("inventory.placement.ended", old["id"]), ("inventory.placement.started", site_b)]
    [started] = await inventory.outbox("inventory.placement.started")
    assert started["data"]["relocation_id"] == relocation_id and started["data"]["start_date"] == "2028-06-30"
    assert len(started["data"]["unit_ids"]) == 4 and started["data"]["gemeente_code"] == "GM0363"
    # relocated in part: the two homes left over are stored like any unrelocated home (and fall back in time)
    got = (await _get(inventory, old["id"])).json()
    assert (got["lifecycle"], got["storage_until"]) == ("in_storage", "2028-12-30")
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    assert [u["status"] for u in units] == ["in_transit"] * 6 + ["in_use"] * 4 + ["stored"] * 2  # to A, at B, left over
    assert (await _scan(inventory))["started_emitted"] == 0

    await _clock(inventory, "2028-09-01")
    assert (await _scan(inventory))["started_emitted"] == 1
    assert [e["data"]["placement_id"] for e in await inventory.outbox("inventory.placement.started")] == [site_b, site_a]
    assert (await _get(inventory, site_a)).json()["lifecycle"] == "active"
    assert (await _scan(inventory))["started_emitted"] == 0


@pytest.mark.committed  # concurrent sessions
async def test_concurrent_scans_after_a_clock_jump_write_each_lifecycle_event_once(inventory):
    inventory.settings.expiry_scan_batch_size = 3  # many small claims interleave between the scans
    c = await register(inventory, unit_count=10, min_group_size=1)
    units = (await inventory.client.get(f"/api/v1/complexes/{c['id']}/units", headers=inventory.headers())).json()["data"]
    placed = [await place(inventory, c["id"], unit_ids=[u["id"]], end_date=f"2027-0{1 + n % 5}-28") for n, u in enumerate(units)]
    await _clock(inventory, "2031-11-23")
    results = await asyncio.gather(*[scan(inventory.runtime) for _ in range(5)])
    assert sum(r.fallback_emitted for r in results) == 10 and sum(r.ended_emitted for r in results) == 10
    for p in placed:
        assert [t for t, _ in await _events(inventory, p["id"])] == [
            "inventory.placement.expiring", "inventory.placement.ended", "inventory.placement.fallback"
        ]
