"""The demo data: loaded through the public API into a running system, the dashboards come alive,
and loading it again creates nothing twice (every object carries an Idempotency-Key)."""

from __future__ import annotations

import pytest

from herplaatsing.demo.loader import load_demo, system_is_empty
from herplaatsing.demo.scenario import build_scenario
from tests.e2e.harness import SystemUnderTest, wait_for

pytestmark = pytest.mark.slow

SCALE = 0.03  # ~900 homes, ~20 plots: the shape of the national scenario, quick to load


def _count(system: SystemUnderTest, path: str) -> int:
    total, cursor = 0, None
    with system.client("marktmeester") as mm:
        while True:
            page = mm.get(path, params={"limit": 100, **({"cursor": cursor} if cursor else {})})
            assert page.status_code == 200, page.text
            body = page.json()
            total += len(body["data"])
            cursor = body["next_cursor"]
            if not cursor:
                return total


def test_demo_fills_the_dashboards_and_a_second_load_creates_nothing(system: SystemUnderTest) -> None:
    assert system_is_empty(system.gateway, system.settings)
    with system.client("marktmeester") as mm:
        today = mm.get("/clock").json()["today"]
    import datetime as dt

    scenario = build_scenario(scale=SCALE, today=dt.date.fromisoformat(today))

    first = load_demo(system.gateway, scale=SCALE, settings=system.settings, progress=False)
    assert first.created == {
        "sites": len(scenario.sites),
        "complexes": len(scenario.complexes),
        "placements": sum(1 for c in scenario.complexes if c.placement),
    }
    assert first.scan is not None and first.scan  # the expiry scan ran once, on the loaded placements
    assert not system_is_empty(system.gateway, system.settings)

    with system.client("marktmeester") as mm:
        summary = mm.get("/dashboard/summary").json()
        assert summary["homes"]["placed"] == scenario.placed_homes
        assert summary["homes"]["ending_within_24_months"] > 0
        assert summary["plots"]["published"] == len(scenario.sites)
        assert summary["plots"]["capacity_units"] == scenario.plot_capacity
        forecast = mm.get("/dashboard/forecast").json()
        assert sum(t["homes_ending"] for t in forecast["totals"]) > 0
        assert sum(t["capacity_available"] for t in forecast["totals"]) > 0
        assert any(t["gap"] > 0 for t in forecast["totals"])  # quarters where more homes end than plots open
        provinces = {c["province_code"] for c in forecast["cells"] if c["homes_ending"] or c["capacity_available"]}
        assert len(provinces) >= 6

        def proposals_appeared() -> dict | None:
            by_status = mm.get("/dashboard/summary").json()["proposals"]["by_status"]
            return by_status if by_status["pending"] > 0 else None

        wait_for(proposals_appeared, timeout=90, what="matching proposes relocations for the expiring placements")
        listed = mm.get("/proposals", params={"limit": 5}).json()["data"]
        assert listed

    counts = {path: _count(system, path) for path in ("/complexes", "/placements")}
    assert counts == {"/complexes": len(scenario.complexes), "/placements": first.created["placements"]}

    second = load_demo(system.gateway, scale=SCALE, settings=system.settings, progress=False)
    assert second.created_total == 0
    assert second.replayed == first.created
    assert {path: _count(system, path) for path in counts} == counts
    with system.client("marktmeester") as mm:
        again = mm.get("/dashboard/summary").json()
    assert again["homes"]["placed"] == summary["homes"]["placed"]
    assert again["plots"]["published"] == summary["plots"]["published"]
    assert again["plots"]["capacity_units"] == summary["plots"]["capacity_units"]
