"""Dashboard figures from the services' statistics, and the dashboards' answers when a service fails."""

from __future__ import annotations

import datetime as dt

from services.gateway.app.dashboard.schemas import CapacityStats, PlacementStats, ProposalStats
from services.gateway.app.dashboard.service import build_forecast, build_summary, quarter_of, quarters_from
from services.gateway.tests.support import bearer, closed_url, gateway, gateway_settings
from shared.domain import Role
from shared.reference import provinces


def stats(today: str = "2026-11-23") -> tuple[PlacementStats, CapacityStats, ProposalStats]:
    placements = PlacementStats.model_validate(
        {
            "today": today,
            "homes_placed": 500,
            "ending_within_12_months": 60,
            "ending_within_24_months": 180,
            "ending_by_quarter": [
                {"quarter": "2026-Q4", "province_code": "PV30", "homes": 40},
                {"quarter": "2026-Q4", "province_code": "PV27", "homes": 10},
                {"quarter": "2027-Q1", "province_code": "PV30", "homes": 20},
                {"quarter": "2040-Q1", "province_code": "PV30", "homes": 999},  # beyond ten years
            ],
        }
    )
    capacity = CapacityStats.model_validate(
        {
            "plots_published": 4,
            "capacity_units": 150,
            "reserved_units": 30,
            "free_units": 120,
            "capacity_by_quarter": [
                {"quarter": "2026-Q4", "province_code": "PV30", "available_homes": 25},
                {"quarter": "2026-Q4", "province_code": "PV27", "available_homes": 50},
                {"quarter": "2027-Q1", "province_code": "PV30", "available_homes": 45},
            ],
        }
    )
    proposals = ProposalStats.model_validate(
        {
            "proposals_by_status": {"pending": 3, "accepted": 1, "reserved": 0, "scheduled": 2, "declined": 1, "expired": 0, "withdrawn": 0},
            "open_demand_units": 70,
            "shortfall_units": 15,
            "shortfall": [{"province_code": "PV30", "quarter": "2026-Q4", "units": 15}],
        }
    )
    return placements, capacity, proposals


def test_quarters_cover_ten_years_from_the_current_quarter() -> None:
    quarters = quarters_from(dt.date(2026, 11, 23))
    assert len(quarters) == 40
    assert quarters[0] == "2026-Q4" and quarters[1] == "2027-Q1" and quarters[-1] == "2036-Q3"
    assert quarter_of(dt.date(2027, 3, 31)) == "2027-Q1" and quarter_of(dt.date(2027, 4, 1)) == "2027-Q2"


def test_forecast_per_quarter_and_province_with_gap_and_totals() -> None:
    forecast = build_forecast(*stats())
    assert forecast.today == dt.date(2026, 11, 23)
    assert len(forecast.cells) == 40 * len(provinces())  # dense: every quarter x every province
    cell = {(c.quarter, c.province_code): c for c in forecast.cells}
    brabant = cell["2026-Q4", "PV30"]
    assert (brabant.homes_ending, brabant.capacity_available, brabant.gap, brabant.shortfall_units) == (40, 25, 15, 15)
    assert brabant.province_name == "Noord-Brabant"
    assert cell["2026-Q4", "PV27"].gap == 0  # capacity exceeds homes: no negative gap
    assert cell["2027-Q1", "PV30"].gap == 0
    totals = {t.quarter: t for t in forecast.totals}
    q4, q1 = totals["2026-Q4"], totals["2027-Q1"]
    assert (q4.homes_ending, q4.capacity_available, q4.gap) == (50, 75, 0)
    assert (q1.homes_ending, q1.capacity_available, q1.gap) == (20, 45, 0)
    assert (q1.cumulative_homes_ending, q1.cumulative_capacity_available, q1.cumulative_gap) == (70, 120, 0)
    assert sum(t.homes_ending for t in forecast.totals) == 70  # 2040 lies outside the window
    assert [t.quarter for t in forecast.totals] == forecast.quarters


def test_forecast_keeps_a_province_code_the_reference_does_not_know() -> None:
    placements, capacity, proposals = stats()
    placements.ending_by_quarter[0].province_code = "PV99"
    forecast = build_forecast(placements, capacity, proposals)
    unknown = [c for c in forecast.cells if c.province_code == "PV99" and c.homes_ending]
    assert unknown and unknown[0].province_name == "PV99"


def test_summary_combines_the_three_services() -> None:
    summary = build_summary(*stats())
    assert summary.homes.placed == 500 and summary.homes.ending_within_24_months == 180
    assert summary.plots.free_units == 120 and summary.plots.published == 4
    assert summary.proposals.by_status.scheduled == 2 and summary.proposals.shortfall_units == 15
    assert summary.capacity_gap_24_months == 60  # 180 homes ending, 120 free spots


async def test_dashboard_names_the_service_that_is_down(echo_upstream) -> None:
    _, url, make = echo_upstream
    settings = make(sites_url=closed_url())
    async with gateway(settings) as client:
        r = await client.get("/api/v1/dashboard/forecast", headers=bearer(settings, Role.marktmeester, None))
    # inventory and matching (the echo service) break the contract, but the outage is named first
    assert r.status_code == 503
    assert r.json()["detail"] == "The sites service is unavailable."


async def test_dashboard_with_all_services_down_is_503() -> None:
    settings = gateway_settings()
    async with gateway(settings) as client:
        r = await client.get("/api/v1/dashboard/summary", headers=bearer(settings, Role.marktmeester, None))
    assert r.status_code == 503
    assert r.json()["detail"] in {f"The {s} service is unavailable." for s in ("inventory", "sites", "matching")}


async def test_dashboard_refuses_a_statistics_answer_that_breaks_the_contract(echo_upstream) -> None:
    _, _, make = echo_upstream  # the echo service answers /stats/* with something else entirely
    settings = make()
    async with gateway(settings) as client:
        r = await client.get("/api/v1/dashboard/summary", headers=bearer(settings, Role.marktmeester, None))
    assert r.status_code == 502
    assert r.headers["content-type"].startswith("application/problem+json")
    assert "unexpected shape" in r.json()["detail"]
