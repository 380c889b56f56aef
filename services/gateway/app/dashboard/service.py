"""Dashboard figures, computed from the services' statistics (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from services.gateway.app.dashboard.schemas import (
    CapacityStats,
    DashboardForecast,
    DashboardSummary,
    ForecastCell,
    ForecastTotal,
    HomesSummary,
    PlacementStats,
    PlotsSummary,
    ProposalStats,
    ProposalsSummary,
)
from shared.reference import provinces

FORECAST_QUARTERS = 40  # ten years


def quarter_of(day: dt.date) -> str:
    return f"{day.year}-Q{(day.month - 1) // 3 + 1}"


def quarters_from(day: dt.date, count: int = FORECAST_QUARTERS) -> list[str]:
    """`count` consecutive quarter labels starting with the quarter `day` falls in."""
    year, q = day.year, (day.month - 1) // 3
    labels = []
    for i in range(count):
        y, qi = year + (q + i) // 4, (q + i) % 4
        labels.append(f"{y}-Q{qi + 1}")
    return labels


def build_summary(placements: PlacementStats, capacity: CapacityStats, proposals: ProposalStats) -> DashboardSummary:
    return DashboardSummary(
        today=placements.today,
        homes=HomesSummary(
            placed=placements.homes_placed,
            ending_within_12_months=placements.ending_within_12_months,
            ending_within_24_months=placements.ending_within_24_months,
        ),
        plots=PlotsSummary(
            published=capacity.plots_published,
            capacity_units=capacity.capacity_units,
            reserved_units=capacity.reserved_units,
            free_units=capacity.free_units,
        ),
        proposals=ProposalsSummary(
            by_status=proposals.proposals_by_status,
            open_demand_units=proposals.open_demand_units,
            shortfall_units=proposals.shortfall_units,
        ),
        capacity_gap_24_months=max(0, placements.ending_within_24_months - capacity.free_units),
    )


def build_forecast(placements: PlacementStats, capacity: CapacityStats, proposals: ProposalStats) -> DashboardForecast:
    """A dense grid: every one of the 40 quarters from the inventory's today x every province.

    Figures a service reports outside the window are left out; a province code the
    reference data does not know is still shown (with its code as name), never dropped.
    """
    quarters = quarters_from(placements.today)
    homes: dict[tuple[str, str], int] = defaultdict(int)
    supply: dict[tuple[str, str], int] = defaultdict(int)
    shortfall: dict[tuple[str, str], int] = defaultdict(int)
    for h in placements.ending_by_quarter:
        homes[h.quarter, h.province_code] += h.homes
    for c in capacity.capacity_by_quarter:
        supply[c.quarter, c.province_code] += c.available_homes
    for s in proposals.shortfall:
        shortfall[s.quarter, s.province_code] += s.units

    names = {code: p.name for code, p in provinces().items()}
    for key in (*homes, *supply, *shortfall):
        names.setdefault(key[1], key[1])
    province_codes = sorted(names)

    cells: list[ForecastCell] = []
    totals: list[ForecastTotal] = []
    cum_homes = cum_supply = 0
    for quarter in quarters:
        q_homes = q_supply = q_short = 0
        for code in province_codes:
            h, c, s = homes[quarter, code], supply[quarter, code], shortfall[quarter, code]
            cells.append(
                ForecastCell(
                    quarter=quarter,
                    province_code=code,
                    province_name=names[code],
                    homes_ending=h,
                    capacity_available=c,
                    gap=max(0, h - c),
                    shortfall_units=s,
                )
            )
            q_homes, q_supply, q_short = q_homes + h, q_supply + c, q_short + s
        cum_homes, cum_supply = cum_homes + q_homes, cum_supply + q_supply
        totals.append(
            ForecastTotal(
                quarter=quarter,
                homes_ending=q_homes,
                capacity_available=q_supply,
                gap=max(0, q_homes - q_supply),
                cumulative_homes_ending=cum_homes,
                cumulative_capacity_available=cum_supply,
                cumulative_gap=max(0, cum_homes - cum_supply),
                shortfall_units=q_short,
            )
        )
    return DashboardForecast(today=placements.today, quarters=quarters, cells=cells, totals=totals)
