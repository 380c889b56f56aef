"""National runs: all open demand against the whole free supply, dry-run or binding.

Open demand is what waits for a plot (waiting, and whatever else the read model counts as
waiting demand: storage, remainders) plus the demand of pending proposals no party has
accepted yet. The run may plan those differently; a dry-run shows which it would replace,
a binding run withdraws them (`superseded_by_run:<run id>`) and proposes its plan. Proposals
a party accepted, and agreed, reserved or scheduled ones, are never touched: their demand is
not in the run and their units stay promised.
"""

from __future__ import annotations

import dataclasses
import time
import uuid
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.optimiser.solver import Allocation, Solution
from services.matching.app.policy import service as policies
from services.matching.app.proposals import repository as proposals_repo
from services.matching.app.proposals import service as proposals
from services.matching.app.proposals.models import Proposal
from services.matching.app.readmodel import repository as rm_repo
from services.matching.app.runs.models import MatchingRun
from shared.web.identity import Principal

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime


def _signature(pairs: list[tuple[str, int]]) -> list[list]:
    return sorted([site, units] for site, units in pairs)


async def run(session: AsyncSession, runtime: "ServiceRuntime", principal: Principal, mode: str, override: bool) -> MatchingRun:
    started = time.perf_counter()
    run_id = uuid.uuid4()
    await proposals_repo.lock_allocator(session)
    replaceable = await proposals_repo.unanswered_pending(session)
    inputs = await proposals.load_inputs(session, replaceable=replaceable)
    policy = await policies.current(session, runtime)
    solution = (
        proposals.solve_inputs(inputs, runtime.settings, override, weights=policy.weights(override))  # type: ignore[arg-type]
        if inputs.demands else None
    )
    housed_by: dict[int, int] = {}
    plan: list[dict] = []
    planned: dict[int, list[Allocation]] = solution.by_demand() if solution is not None else {}
    if solution is not None:
        for a in solution.allocations:
            housed_by[a.demand] = housed_by.get(a.demand, 0) + a.units
            plan.append({"placement_id": inputs.demands[a.demand].key, "site_id": inputs.plots[a.plot].key,
                         "gemeente_code": inputs.plots[a.plot].gemeente_code, "units": a.units, "rung": a.rung.value,
                         "distance_km": round(a.distance_km, 3)})
    short_rows = [(r.province_code, r.end_date, r.remaining_units - housed_by.get(i, 0)) for i, r in enumerate(inputs.rows)]

    # Which pending proposals the plan replaces: those it allocates differently.
    index = {r.placement_id: i for i, r in enumerate(inputs.rows)}
    current = await proposals_repo.allocations_of(session, [p.id for p in replaceable])
    replaced: list[tuple[Proposal, dict]] = []
    kept: list[int] = []
    for p in replaceable:
        i = index.get(p.placement_id)
        if i is None:
            continue
        now_ = _signature([(str(a.site_id), a.units) for a in current[p.id]])
        then = _signature([(inputs.plots[a.plot].key, a.units) for a in planned.get(i, [])])
        if now_ == then:
            kept.append(i)
            continue
        replaced.append((p, {"proposal_id": str(p.id), "placement_id": str(p.placement_id),
                             "reason": "different_allocation" if then else "not_housed_in_plan",
                             "current": now_, "planned": then}))

    created = 0
    if mode == "binding" and solution is not None:
        for p, _ in replaced:
            await proposals.withdraw(session, runtime, p, f"superseded_by_run:{run_id}")
            await proposals.return_to_pool(session, p, remember_allocation=False)
        shortfall = {i: inputs.rows[i].shortfall_units for i in kept}
        created = len(await proposals.propose(session, runtime, run_id=run_id, override=override,
                                              prepared=_without(inputs, solution, kept)))
        for i, units in shortfall.items():  # propose() counts the kept rows' homes as unhoused: they are not
            inputs.rows[i].shortfall_units = units
    by_status = await rm_repo.demand_by_status(session)
    demand_units = sum(d.units for d in inputs.demands)
    housed = sum(housed_by.values())
    record = MatchingRun(
        id=run_id, mode=mode, allow_garantiekavel_override=override, requested_by=principal.sub,
        created_at=runtime.clock.now(), wall_time_s=round(time.perf_counter() - started, 3), demand_units=demand_units,
        housed_units=housed, shortfall_units=demand_units - housed, proposals_created=created, policy_version=policy.version,
        result={
            "cost": solution.cost.model_dump(by_alias=False) if solution else {},
            "shortfall": proposals.shortfall_by_province_quarter(short_rows),
            "solver_stats": {**(solution.stats if solution else {}), "max_flow": solution.max_flow if solution else 0},
            "plan": plan,
            "replaces": [detail for _, detail in replaced],
            "kept_pending": len(kept),
            "demand_by_status": by_status,
        },
    )
    session.add(record)
    await session.flush()
    return record


def _without(inputs: proposals.MatchInputs, solution: Solution, kept: list[int]) -> tuple[proposals.MatchInputs, Solution]:
    """The plan for proposing: pending proposals the plan keeps get nothing new, but their units stay taken."""
    keep = set(kept)
    plots = list(inputs.plots)
    for a in solution.allocations:
        if a.demand in keep:
            plots[a.plot] = dataclasses.replace(plots[a.plot], free_units=plots[a.plot].free_units - a.units)
    rest = dataclasses.replace(solution, allocations=[a for a in solution.allocations if a.demand not in keep])
    return dataclasses.replace(inputs, plots=plots), rest
