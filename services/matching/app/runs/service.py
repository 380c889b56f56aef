"""National runs: the whole open demand against the whole free supply, dry-run or binding."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.proposals import repository as proposals_repo
from services.matching.app.proposals import service as proposals
from services.matching.app.runs.models import MatchingRun
from shared.web.identity import Principal

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime


async def run(session: AsyncSession, runtime: "ServiceRuntime", principal: Principal, mode: str, override: bool) -> MatchingRun:
    started = time.perf_counter()
    run_id = uuid.uuid4()
    await proposals_repo.lock_allocator(session)
    inputs = await proposals.load_inputs(session)
    solution = proposals.solve_inputs(inputs, runtime.settings, override) if inputs.demands else None  # type: ignore[arg-type]
    housed_by: dict[int, int] = {}
    plan: list[dict] = []
    if solution is not None:
        for a in solution.allocations:
            housed_by[a.demand] = housed_by.get(a.demand, 0) + a.units
            plan.append({"placement_id": inputs.demands[a.demand].key, "site_id": inputs.plots[a.plot].key,
                         "gemeente_code": inputs.plots[a.plot].gemeente_code, "units": a.units, "rung": a.rung.value,
                         "distance_km": round(a.distance_km, 3)})
    short_rows = [(r.province_code, r.end_date, r.remaining_units - housed_by.get(i, 0)) for i, r in enumerate(inputs.rows)]
    created = 0
    if mode == "binding" and inputs.demands:
        created = len(await proposals.propose(session, runtime, run_id=run_id, override=override,
                                              prepared=(inputs, solution)))
    demand_units = sum(d.units for d in inputs.demands)
    housed = sum(housed_by.values())
    record = MatchingRun(
        id=run_id, mode=mode, allow_garantiekavel_override=override, requested_by=principal.sub,
        created_at=runtime.clock.now(), wall_time_s=round(time.perf_counter() - started, 3), demand_units=demand_units,
        housed_units=housed, shortfall_units=demand_units - housed, proposals_created=created,
        result={
            "cost": solution.cost.model_dump(by_alias=False) if solution else {},
            "shortfall": proposals.shortfall_by_province_quarter(short_rows),
            "solver_stats": {**(solution.stats if solution else {}), "max_flow": solution.max_flow if solution else 0},
            "plan": plan,
        },
    )
    session.add(record)
    await session.flush()
    return record
