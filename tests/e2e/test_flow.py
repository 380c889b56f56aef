"""The flow that defines the product, over HTTP through the gateway, each service its own process.

Municipalities publish plots, an investor registers complexes and placements, the
marktmeester moves the clock, the expiry scan signals the placements, matching proposes,
every party accepts, sites reserves the capacity and inventory schedules the relocation.
"""

from __future__ import annotations

import time

import pytest

from tests.e2e import scenario
from tests.e2e.harness import SystemUnderTest

pytestmark = pytest.mark.slow


def test_the_whole_flow_reaches_scheduled_relocations(system: SystemUnderTest) -> None:
    market = scenario.Marketplace()
    scenario.publish_plots(system, market)
    with system.client("anonymous") as public:
        listed = {s["id"] for s in public.get("/sites", params={"limit": 100}).json()["data"]}
    assert set(market.sites.values()) <= listed  # the public listing shows published plots

    scenario.register_homes(system, market)
    time.sleep(1.5)  # the expiry scan runs every second: 42 months before the end it must stay silent
    with system.client("marktmeester") as mm:
        for placement_id in market.placements.values():
            placement = mm.get(f"/placements/{placement_id}").json()
            assert (placement["status"], placement["expiring_emitted_at"]) == ("active", None)
            assert scenario.proposals_of(system, placement_id) == []

    scenario.move_clock(system)
    scenario.placements_expiring(system, market)
    with system.client("marktmeester") as mm:
        ending = mm.get("/placements", params={"expiringBefore": "2034-01-01", "limit": 100}).json()["data"]
        assert {p["id"] for p in ending} == set(market.placements.values())

    proposals = scenario.pending_proposals(system, market)
    for key, proposal in proposals.items():
        scenario.check_proposal(market, key, proposal)

    # The investor accepts first: the proposal waits for the municipality, nothing is reserved yet.
    first = proposals["a"]
    with system.client("investor", scenario.INVESTOR) as investor:
        half = investor.post(f"/proposals/{first['id']}/accept")
        assert half.status_code == 200, half.text
        assert half.json()["status"] == "pending"
        assert {(p["role"], p["accepted"]) for p in half.json()["parties"]} == {("investor", True), ("municipality", False)}
    with system.client("marktmeester") as mm:
        assert mm.get(f"/sites/{market.sites['eindhoven']}").json()["reserved_units"] == 0

    for proposal in proposals.values():
        scenario.accept(system, proposal)
    scenario.scheduled(system, market)

    state = scenario.assert_end_state(system, market)
    # the follow-up placement carries sequence 2, on the plot, and the relocation points at it
    with system.client("marktmeester") as mm:
        for key, placement_id in market.placements.items():
            relocation = mm.get("/relocations", params={"placement": placement_id}).json()["data"][0]
            follow_up = mm.get(f"/placements/{relocation['allocations'][0]['new_placement_id']}").json()
            assert follow_up["sequence_no"] == 2 and follow_up["site_id"] == market.sites[scenario.COMPLEXES[key][2]]
            assert follow_up["created_by_relocation_id"] == relocation["id"]
            assert relocation["proposal_id"] == proposals[key]["id"]
    assert state["dead_letters"] == {"inventory": 0, "sites": 0, "matching": 0}
