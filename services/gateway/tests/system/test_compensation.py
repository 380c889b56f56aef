"""Refused steps are compensated and dead letters are the marktmeester's to see and act on,
through the gateway against the real services (relays and consumers running)."""

from __future__ import annotations

from typing import Any

from herplaatsing.testing import eventually
from services.gateway.tests.system.conftest import APELDOORN, INVESTOR_A, Market, System, placement
from shared.domain import Role


async def test_a_relocation_refused_by_inventory_releases_the_capacity_and_a_new_proposal_follows(
    system: System, market: Market
) -> None:
    mm = system.as_(Role.marktmeester)
    investor = system.as_(Role.investor, INVESTOR_A)
    gm, lat, lon = APELDOORN
    proposal = market.proposal_a
    assert proposal["placement_id"] == market.placement_a["id"]
    # Meanwhile the investor records where these homes go after the term: an ordinary request.
    await system.ok("POST", "/placements", investor, 201, json=placement(market.complex_a["id"], gm, lat, lon)
                    | {"start_date": "2027-06-30", "end_date": "2032-06-29"})
    await system.ok("POST", f"/proposals/{proposal['id']}/accept", investor)
    await system.ok("POST", f"/proposals/{proposal['id']}/accept", system.as_(Role.municipality, gm))

    async def withdrawn() -> dict[str, Any] | None:
        got = await system.ok("GET", f"/proposals/{proposal['id']}", mm)
        return got if got["status"] == "withdrawn" else None

    got = await eventually(withdrawn, timeout=30)
    assert got["reason"].startswith("relocation_refused: units_in_later_placement: 20 of the placement's homes")

    async def capacity_back() -> bool:
        plot_a = await system.ok("GET", f"/sites/{market.plot_a['id']}", mm)
        return plot_a["reserved_units"] == 0

    assert await eventually(capacity_back, timeout=30)

    async def new_proposal() -> list[dict[str, Any]]:
        page = await system.ok("GET", "/proposals", mm, params={"placement": market.placement_a["id"]})
        return [p for p in page["data"] if p["id"] != proposal["id"] and p["status"] == "pending"]

    [again] = await eventually(new_proposal, timeout=30)
    assert again["placement_id"] == market.placement_a["id"]
    assert (await system.ok("GET", "/relocations", mm))["data"] == []  # nothing was scheduled
    assert (await system.ok("GET", "/dead-letters", mm))["data"] == []  # refused once, not retried into a dead letter


async def test_dead_letters_of_the_three_services_in_one_list_retried_and_resolved(system: System) -> None:
    mm = system.as_(Role.marktmeester)
    inventory = system.services["inventory"].state.runtime
    sites = system.services["sites"].state.runtime

    async def js_ready() -> bool:
        return inventory.js is not None and sites.js is not None

    await eventually(js_ready, timeout=20)
    # Garbage on two subjects: inventory and matching consume the first, sites the second.
    await inventory.js.publish(inventory.settings.subject("sites.reservation.confirmed"), b"{not json")
    await inventory.js.publish(inventory.settings.subject("matching.proposal.accepted"), b"[1, 2]")

    async def three() -> list[dict[str, Any]] | None:
        page = await system.ok("GET", "/dead-letters", mm)
        return page["data"] if len(page["data"]) == 3 else None

    letters = await eventually(three, timeout=30)
    assert sorted(d["service"] for d in letters) == ["inventory", "matching", "sites"]
    assert all(d["status"] == "open" and "not a CloudEvent" in d["error"] for d in letters)
    stamps = [d["first_seen_at"] for d in letters]
    assert stamps == sorted(stamps, reverse=True)  # newest first

    first = await system.ok("GET", "/dead-letters", mm, params={"limit": 2})
    assert len(first["data"]) == 2 and first["next_cursor"]
    rest = await system.ok("GET", "/dead-letters", mm, params={"limit": 2, "cursor": first["next_cursor"]})
    assert len(rest["data"]) == 1 and rest["next_cursor"] is None
    assert [(d["service"], d["id"]) for d in first["data"] + rest["data"]] == [(d["service"], d["id"]) for d in letters]

    by_service = {d["service"]: d for d in letters}
    retried = await system.ok("POST", f"/dead-letters/sites/{by_service['sites']['id']}/retry", mm)
    assert retried["status"] == "open" and retried["deliveries"] == by_service["sites"]["deliveries"] + 1  # still garbage
    resolved = await system.ok("POST", f"/dead-letters/inventory/{by_service['inventory']['id']}/resolve", mm,
                               json={"note": "garbage from a test publisher"})
    assert (resolved["status"], resolved["note"], resolved["service"]) == ("resolved", "garbage from a test publisher", "inventory")
    still_open = await system.ok("GET", "/dead-letters", mm, params={"status": "open"})
    assert sorted(d["service"] for d in still_open["data"]) == ["matching", "sites"]

    assert (await system.client.get("/api/v1/dead-letters", headers=system.as_(Role.investor, INVESTOR_A))).status_code == 403
    bad = await system.client.post("/api/v1/dead-letters/nowhere/1/retry", headers=mm)
    assert bad.status_code == 400 and "service" in bad.text
    missing = await system.client.post("/api/v1/dead-letters/matching/999999/resolve", headers=mm, json={})
    assert missing.status_code == 404


async def test_a_dry_run_after_the_clock_jumps_reports_the_demand_now_waiting(system: System) -> None:
    from services.gateway.tests.system.conftest import complex_registration

    mm = system.as_(Role.marktmeester)
    investor = system.as_(Role.investor, INVESTOR_A)
    gm, lat, lon = APELDOORN
    flex = await system.ok("POST", "/complexes", investor, 201, json=complex_registration("Flex A", units=12))
    await system.ok("POST", "/placements", investor, 201,
                    json=placement(flex["id"], gm, lat, lon, end_date="2031-06-30") | {"instrument": "wabo_uitgebreid"})
    before = await system.ok("POST", "/matching/runs", mm, 201, json={"mode": "dry_run"})
    assert before["demand_units"] == 0  # years to go: not demand yet

    await system.ok("PATCH", "/clock", mm, json={"today": "2031-02-01"})

    async def waiting() -> dict[str, Any] | None:
        run = await system.ok("POST", "/matching/runs", mm, 201, json={"mode": "dry_run"})
        return run if run["demand_units"] else None

    run = await eventually(waiting, timeout=30)
    assert (run["demand_units"], run["housed_units"], run["shortfall_units"]) == (12, 0, 12)  # no plot anywhere
    assert run["shortfall"] == [{"province_code": "PV25", "quarter": "2031-Q2", "units": 12}]
    assert run["demand_by_status"]["waiting"] == {"placements": 1, "homes": 12}
    assert run["proposals_created"] == 0 and run["replaces"] == []
