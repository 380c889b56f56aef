"""The small marketplace every end-to-end test plays through the gateway.

Two municipalities each publish one plot, and a third plot nobody can use. One investor
registers two complexes with a placement each. The hard constraints pin each complex to
one plot (complex A stacks two layers, which only plot Eindhoven allows; complex B is
built to Bbl *tijdelijk* level, which only plot Utrecht accepts), so the end state does
not depend on the order in which events reach matching: a fault may delay the flow but
must not change where the homes go.

Base date 2030-01-01; the placements end 2033-06-30 (42 months away, outside the 24-month
horizon). Moving the clock two years forward brings them within it.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.demo_parties import demo_organisation
from tests.e2e.harness import SystemUnderTest, wait_for

TODAY = "2030-01-01"
PLACEMENT_END = "2033-06-30"
CLOCK_OFFSET_DAYS = 731  # 2032-01-02: 18 months before the end
INVESTOR = "woonstede"
EINDHOVEN, UTRECHT, GRONINGEN = "GM0772", "GM0344", "GM0014"


def _site(name: str, lat: float, lon: float, capacity: int, max_layers: int, tijdelijk_ok: bool) -> dict[str, Any]:
    return {
        "name": name,
        "kind": "municipal",
        "location": {"lat": lat, "lon": lon},
        "capacity_units": capacity,
        "available_from": "2033-01-01",
        "expected_instrument": "wabo_uitgebreid",
        "min_term_years": 5,
        "max_layers": max_layers,
        "allows_tijdelijk_bbl": tijdelijk_ok,
        "readiness": {"bouwrijp": True, "water": True, "electricity": True, "sewer": True},
        "status": "published",
    }


PLOTS = {
    # key: (publishing municipality, body)
    "eindhoven": (EINDHOVEN, _site("Kavel Strijp-Noord", 51.4500, 5.4600, 10, 2, False)),
    "utrecht": (UTRECHT, _site("Kavel Lage Weide", 52.1000, 5.0800, 8, 1, True)),
    # Nobody fits here (one layer, no tijdelijk homes): its capacity must stay untouched.
    "groningen": (GRONINGEN, _site("Kavel Zernike", 53.2400, 6.5300, 5, 1, False)),
}


def _complex(name: str, code: str, units: int, layers: int, bbl: str) -> dict[str, Any]:
    return {
        "name": name,
        "short_code": code,
        "unit_count": units,
        "typology": "gestapeld" if layers > 1 else "grondgebonden",
        "layers": layers,
        "floor_area_m2": 40,
        "bedrooms": 1,
        "modules_per_unit": 1.0,
        "bbl_level": bbl,
        "build_year": 2021,
        "build_cost_eur_per_unit": 110_000,
    }


COMPLEXES = {
    # key: (complex body, current location (gemeente, lat, lon), plot it must end up on)
    "a": (_complex("Flexwonen Tongelre", "TONG", 6, 2, "nieuwbouw"), (EINDHOVEN, 51.4400, 5.5000), "eindhoven"),
    "b": (_complex("Tijdelijk Overvecht", "OVV", 4, 1, "tijdelijk"), (UTRECHT, 52.1100, 5.1100), "utrecht"),
}


@dataclass
class Marketplace:
    """Ids of what the scenario created, by scenario key."""

    sites: dict[str, str] = field(default_factory=dict)
    complexes: dict[str, str] = field(default_factory=dict)
    placements: dict[str, str] = field(default_factory=dict)


def _ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.method} {response.request.url} -> {response.status_code}: {response.text}"
    return response.json()


def publish_plots(system: SystemUnderTest, market: Marketplace) -> None:
    for key, (gemeente, body) in PLOTS.items():
        with system.client("municipality", gemeente) as municipality:
            site = _ok(
                municipality.post("/sites", json={**body, "gemeente_code": gemeente}, headers={"Idempotency-Key": f"plot-{key}"}),
                201,
            )
        assert site["status"] == "published" and site["reserved_units"] == 0 and site["free_units"] == body["capacity_units"]
        market.sites[key] = site["id"]


def register_homes(system: SystemUnderTest, market: Marketplace) -> None:
    # The investor acts only for a registered organisation (409: registered by an earlier run).
    with system.client("marktmeester") as marktmeester:
        registered = marktmeester.post("/organisations", json=demo_organisation(INVESTOR))
        assert registered.status_code in (201, 409), registered.text
    with system.client("investor", INVESTOR) as investor:
        for key, (body, (gemeente, lat, lon), _plot) in COMPLEXES.items():
            complex_ = _ok(investor.post("/complexes", json=body, headers={"Idempotency-Key": f"complex-{key}"}), 201)
            assert complex_["investor_org"] == INVESTOR and complex_["unit_count"] == body["unit_count"]
            market.complexes[key] = complex_["id"]
            placement = _ok(
                investor.post(
                    "/placements",
                    json={
                        "complex_id": complex_["id"],
                        "gemeente_code": gemeente,
                        "lat": lat,
                        "lon": lon,
                        "instrument": "wabo_uitgebreid",
                        "start_date": "2021-07-01",
                        "end_date": PLACEMENT_END,
                    },
                    headers={"Idempotency-Key": f"placement-{key}"},
                ),
                201,
            )
            assert placement["sequence_no"] == 1 and placement["unit_count"] == body["unit_count"]
            assert placement["status"] == "active"
            market.placements[key] = placement["id"]


def move_clock(system: SystemUnderTest) -> None:
    with system.client("marktmeester") as mm:
        clock = _ok(mm.patch("/clock", json={"offset_days": CLOCK_OFFSET_DAYS}))
    assert clock["today"] == "2032-01-02" and clock["offset_days"] == CLOCK_OFFSET_DAYS


def placements_expiring(system: SystemUnderTest, market: Marketplace, timeout: float = 60) -> None:
    """The periodic scan signals every placement (its `expiring_emitted_at` is set)."""

    def signalled() -> bool:
        with system.client("marktmeester") as mm:
            for placement_id in market.placements.values():
                placement = _ok(mm.get(f"/placements/{placement_id}"))
                if placement["expiring_emitted_at"] is None:
                    return False
                assert placement["status"] == "expiring", placement
        return True

    wait_for(signalled, timeout=timeout, what="placements signalled as expiring")


def proposals_of(system: SystemUnderTest, placement_id: str) -> list[dict[str, Any]]:
    with system.client("marktmeester") as mm:
        page = _ok(mm.get("/proposals", params={"placement": placement_id, "limit": 100}))
    assert page["next_cursor"] is None
    return page["data"]


def pending_proposals(system: SystemUnderTest, market: Marketplace, timeout: float = 90) -> dict[str, dict[str, Any]]:
    """Wait for one pending proposal per placement; returns them by scenario key."""

    def all_proposed() -> dict[str, dict[str, Any]] | None:
        found = {}
        for key, placement_id in market.placements.items():
            pending = [p for p in proposals_of(system, placement_id) if p["status"] == "pending"]
            if not pending:
                return None
            assert len(pending) == 1, f"two open proposals for one placement: {pending}"
            found[key] = pending[0]
        return found

    return wait_for(all_proposed, timeout=timeout, what="a pending proposal per placement")


def check_proposal(market: Marketplace, key: str, proposal: dict[str, Any]) -> None:
    body, (gemeente, _lat, _lon), plot = COMPLEXES[key]
    assert proposal["placement_id"] == market.placements[key]
    assert proposal["complex_id"] == market.complexes[key]
    assert proposal["investor_org"] == INVESTOR
    assert proposal["unit_count"] == body["unit_count"] and proposal["shortfall_units"] == 0
    assert [(a["site_id"], a["units"]) for a in proposal["allocations"]] == [(market.sites[plot], body["unit_count"])]
    assert proposal["allocations"][0]["gemeente_code"] == gemeente
    assert proposal["rung"] == "gemeente"  # same municipality: the first rung of the ladder
    assert proposal["cost"].get("total", 0) > 0
    parties = {(p["role"], p["org"]) for p in proposal["parties"]}
    assert parties == {("investor", INVESTOR), ("municipality", gemeente)}


def accept(system: SystemUnderTest, proposal: dict[str, Any]) -> None:
    """Every party accepts; a retried accept (a lost response) must be harmless."""
    for party in proposal["parties"]:
        with system.client(party["role"], party["org"]) as client:
            response = client.post(f"/proposals/{proposal['id']}/accept")
            assert response.status_code in (200, 409), response.text  # 409: already decided (a retry after a fault)


def scheduled(system: SystemUnderTest, market: Marketplace, timeout: float = 90) -> None:
    """Wait until every placement's proposal is `scheduled` (the relocation plan is recorded)."""

    def done() -> bool:
        return all(any(p["status"] == "scheduled" for p in proposals_of(system, pid)) for pid in market.placements.values())

    wait_for(done, timeout=timeout, what="every proposal scheduled")


def run_flow(system: SystemUnderTest, market: Marketplace | None = None) -> Marketplace:
    """The whole flow, undisturbed (fault tests interleave their faults with these same steps)."""
    market = market or Marketplace()
    publish_plots(system, market)
    register_homes(system, market)
    move_clock(system)
    placements_expiring(system, market)
    for key, proposal in pending_proposals(system, market).items():
        check_proposal(market, key, proposal)
        accept(system, proposal)
    scheduled(system, market)
    return market


# -- the end state, as every service reports it


def end_state(system: SystemUnderTest, market: Marketplace) -> dict[str, Any]:
    """Everything the tests compare, in plain values (no ids that differ between runs)."""
    state: dict[str, Any] = {"proposals": {}, "sites": {}, "relocations": {}, "placements": {}, "units": {}}
    with system.client("marktmeester") as mm:
        for key, placement_id in market.placements.items():
            statuses = sorted(p["status"] for p in proposals_of(system, placement_id))
            state["proposals"][key] = statuses
        for key, site_id in market.sites.items():
            site = _ok(mm.get(f"/sites/{site_id}"))
            state["sites"][key] = (site["capacity_units"], site["reserved_units"], site["free_units"])
        for key, placement_id in market.placements.items():
            relocations = _ok(mm.get("/relocations", params={"placement": placement_id, "limit": 100}))["data"]
            state["relocations"][key] = [
                (r["status"], [(_key_of(market.sites, a["site_id"]), len(a["unit_ids"])) for a in r["allocations"]], len(r["unallocated_unit_ids"]))
                for r in relocations
            ]
        for key, complex_id in market.complexes.items():
            placements = _ok(mm.get("/placements", params={"complex": complex_id, "limit": 100}))["data"]
            state["placements"][key] = sorted(
                (p["sequence_no"], p["status"], p["site_id"] and _key_of(market.sites, p["site_id"]), p["unit_count"],
                 p["relocation_id"] is not None, p["created_by_relocation_id"] is not None)
                for p in placements
            )
            units = _ok(mm.get(f"/complexes/{complex_id}/units", params={"limit": 100}))["data"]
            state["units"][key] = sorted({u["status"] for u in units})
    state["dead_letters"] = {svc: system.sql(svc, "SELECT count(*) FROM dead_letters")[0][0] for svc in ("inventory", "sites", "matching")}
    state["unpublished"] = {svc: system.sql(svc, "SELECT count(*) FROM outbox WHERE published_at IS NULL")[0][0] for svc in ("inventory", "sites", "matching")}
    # reservations in sites, per placement: (status, units); one per placement, none rejected
    rows = system.sql("sites", "SELECT r.placement_id::text, r.status, sum(l.units) FROM reservations r "
                               "JOIN reservation_lines l ON l.reservation_id = r.id GROUP BY r.id ORDER BY r.created_at")
    state["reservations"] = {key: [(status, int(units)) for pid, status, units in rows if pid == placement_id]
                             for key, placement_id in market.placements.items()}
    return state


def _key_of(ids: dict[str, str], value: str) -> str:
    for key, id_ in ids.items():
        if id_ == value:
            return key
    return f"unknown:{uuid.UUID(value)}"


# The undisturbed run's end state, by construction of the scenario (test_flow proves a real run reaches it).
EXPECTED = {
    "proposals": {"a": ["scheduled"], "b": ["scheduled"]},
    "sites": {"eindhoven": (10, 6, 4), "utrecht": (8, 4, 4), "groningen": (5, 0, 5)},
    "relocations": {"a": [("scheduled", [("eindhoven", 6)], 0)], "b": [("scheduled", [("utrecht", 4)], 0)]},
    "placements": {
        "a": [(1, "expiring", None, 6, True, False), (2, "scheduled", "eindhoven", 6, False, True)],
        "b": [(1, "expiring", None, 4, True, False), (2, "scheduled", "utrecht", 4, False, True)],
    },
    "units": {"a": ["in_use"], "b": ["in_use"]},  # the move starts when the old term ends (2033)
    "dead_letters": {"inventory": 0, "sites": 0, "matching": 0},
    "unpublished": {"inventory": 0, "sites": 0, "matching": 0},
    "reservations": {"a": [("confirmed", 6)], "b": [("confirmed", 4)]},
}


def assert_end_state(system: SystemUnderTest, market: Marketplace) -> dict[str, Any]:
    """The flow is complete, nothing lost and nothing done twice: equal to the undisturbed run's state."""

    def converged() -> dict[str, Any] | None:
        state = end_state(system, market)
        return state if state == EXPECTED else None

    try:
        return wait_for(converged, timeout=30, what="end state")
    except AssertionError:
        state = end_state(system, market)
        differences = {k: {"got": state.get(k), "expected": v} for k, v in EXPECTED.items() if state.get(k) != v}
        raise AssertionError(f"end state differs from the undisturbed run's: {differences}") from None
