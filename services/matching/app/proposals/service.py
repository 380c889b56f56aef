"""Proposals: the matcher that turns waiting demand into proposals, and two-party acceptance."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import time
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.ledger import fold as ledger
from services.matching.app.optimiser import explain
from services.matching.app.optimiser.solver import RUNG_INDEX, Allocation, Demand, Plot, Solution, Weights, solve
from services.matching.app.db import clock_table
from services.matching.app.policy import service as policies
from services.matching.app.proposals import repository as repo
from services.matching.app.proposals.models import COMMITTED_STATUSES, Proposal, ProposalAllocation
from services.matching.app.readmodel import repository as rm_repo
from services.matching.app.readmodel.models import PlacementDemand, PlotView
from services.matching.app.readmodel.service import to_demand, to_plot
from shared import product_clock
from services.matching.app.rematch import service as rematch
from shared.domain import LadderRung, Role
from shared.events import models as ev
from shared.metrics import SOLVER_DURATION, SOLVER_RUNS
from shared.web.identity import Principal
from shared.web.problems import ProblemError, conflict, not_found

if TYPE_CHECKING:
    from services.matching.app.config import MatchingSettings
    from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

@dataclasses.dataclass
class MatchInputs:
    rows: list[PlacementDemand]
    demands: list[Demand]
    plots: list[Plot]
    plot_rows: list[PlotView]


async def load_inputs(session: AsyncSession, placement_ids: list[uuid.UUID] | None = None,
                      replaceable: list[Proposal] | None = None, *, lock: bool = True) -> MatchInputs:
    """Waiting demand (all, or the given placements) and the plots with free units. `replaceable`: pending
    proposals a national run may supersede; their demand is matched again and their promised units count as free.

    `lock`: lock the demand rows (the direct path, which writes in the same transaction); the
    background matcher reads without locks and re-validates when it writes.
    """
    replaceable = replaceable or []
    rows = await rm_repo.waiting_demand(session, placement_ids, also=[p.placement_id for p in replaceable], lock=lock)
    promised = await rm_repo.promised_units_by_site(session, besides=[p.id for p in replaceable])
    plot_rows = await rm_repo.published_plots(session)
    plots = [to_plot(r, promised.get(r.site_id, 0)) for r in plot_rows]
    keep = [i for i, p in enumerate(plots) if p.free_units > 0]
    return MatchInputs(rows, [to_demand(r) for r in rows], [plots[i] for i in keep], [plot_rows[i] for i in keep])


def _signature(plots: list[Plot], allocations: list[Allocation]) -> list[list]:
    return sorted([plots[a.plot].key, a.units] for a in allocations)


def solve_inputs(inputs: MatchInputs, settings: "MatchingSettings", override: bool = False,
                 time_limit_s: float | None = None, *, weights: Weights | None = None) -> Solution:
    """Solve with `weights` (the policy in force's, see policies.current); the settings' only without."""
    return _timed_solve(inputs.demands, inputs.plots, weights or settings.weights(override), settings.arc_k,
                        settings.solver_time_limit_s if time_limit_s is None else time_limit_s)


def _timed_solve(demands: list[Demand], plots: list[Plot], w: Weights, k: int, time_limit_s: float,
                 per_demand_s: float | None = None, floor_s: float = 0.0) -> Solution:
    started, outcome = time.perf_counter(), "error"
    try:
        solution = solve(demands, plots, w, k=k, time_limit_s=time_limit_s, per_demand_s=per_demand_s, floor_s=floor_s)
        outcome = "ok"
        return solution
    finally:
        SOLVER_DURATION.observe(time.perf_counter() - started)
        SOLVER_RUNS.labels("auto", outcome).inc()


def _groups(demands: list[Demand]) -> np.ndarray:
    return np.array([max(1, min(d.min_group_size, d.units)) for d in demands], dtype=np.int64)


@dataclasses.dataclass
class Offer:
    """What the matcher proposes for one waiting demand: allocations (none: it stays waiting) and their explanation."""

    index: int  # of the demand in the inputs
    allocations: list[Allocation]
    shortfall_units: int
    cost: ev.CostBreakdown | None = None
    binding_constraints: list[str] = dataclasses.field(default_factory=list)
    alternatives: list[dict] = dataclasses.field(default_factory=list)
    passed_over: list[dict] = dataclasses.field(default_factory=list)  # the nearest plots not used, and why


def plan_offers(demands: list[Demand], plots: list[Plot], declined: list[list], w: Weights, k: int,
                time_limit_s: float, exact_time_limit_s: float, solution: Solution | None = None,
                per_demand_s: float | None = None, floor_s: float = 0.0) -> tuple[list[Offer], dict]:
    """Solve (unless `solution` is given) and explain an offer per demand; also the solver's stats.
    Pure CPU work, no database: the background matcher runs it off the event loop.
    `declined[i]`: demand i's turned-down allocations. `per_demand_s`, `floor_s`: the solver's budget
    per demand with a feasible arc, at least `floor_s`, at most `time_limit_s` (`solve`).
    """
    if solution is None:
        solution = _timed_solve(demands, plots, w, k, time_limit_s, per_demand_s, floor_s)
    plots = list(plots)  # free units are counted down as offers are made
    by_demand = solution.by_demand()
    groups = _groups(demands)
    capacity = np.array([max(0, p.free_units) for p in plots], dtype=np.int64)
    binding = explain.BindingConstraints(demands, plots, w)
    coords = explain.plot_coords(plots)  # the plots' places do not change while offers count their units down
    offers: list[Offer] = []
    unused: list[explain.Unused | None] = []  # per offer with allocations, in order
    for i, demand in enumerate(demands):
        allocations = by_demand.get(i, [])
        sol_i, i_in, groups_i, capacity_i = solution, i, groups, capacity
        if allocations and _signature(plots, allocations) in (declined[i] or []):
            # do not offer exactly what was turned down: drop the largest piece's plot and re-solve alone
            largest = max(allocations, key=lambda a: a.units)
            demand = dataclasses.replace(demand, excluded_plots=demand.excluded_plots | {plots[largest.plot].key})
            sol_i = solve([demand], plots, w, k=None, method="exact", time_limit_s=exact_time_limit_s)
            i_in, groups_i = 0, _groups([demand])
            capacity_i = np.array([max(0, p.free_units) for p in plots], dtype=np.int64)
            allocations = [dataclasses.replace(a, demand=i) for a in sol_i.allocations]
        housed = sum(a.units for a in allocations)
        if not allocations:
            offers.append(Offer(i, [], demand.units - housed))
            continue  # stays waiting: reported as shortfall, retried when supply is published
        offers.append(Offer(
            i, allocations, demand.units - housed,
            cost=explain.demand_cost(sol_i, i_in, groups_i, w),
            binding_constraints=binding.of(i, allocations, demand),
            alternatives=explain.alternatives(sol_i, i_in, demand, plots, capacity_i, w),
        ))
        unused.append(explain.nearest_unused(sol_i, i_in, demand, plots, capacity_i, coords=coords))
        # later demands in this batch see the capacity this offer promised
        for a in allocations:
            p = plots[a.plot]
            plots[a.plot] = dataclasses.replace(p, free_units=p.free_units - a.units)
    # the passed-over plots of every offer in one pass over all their pairs (each as its offer saw the plots)
    for offer, why in zip([o for o in offers if o.allocations], explain.passed_over_many(unused, w)):
        offer.passed_over = why
    return offers, solution.stats


def plan_inputs(inputs: MatchInputs, settings: "MatchingSettings", w: Weights,
                time_limit_s: float | None = None, solution: Solution | None = None) -> list[Offer]:
    """Offers for the inputs under the weights `w` (the policy in force's)."""
    offers, _ = plan_offers(inputs.demands, inputs.plots, [r.declined_allocations for r in inputs.rows], w,
                            settings.arc_k, settings.proposal_time_limit_s if time_limit_s is None else time_limit_s,
                            settings.proposal_time_limit_s, solution)
    return offers


async def propose(
    session: AsyncSession, runtime: "ServiceRuntime", placement_ids: list[uuid.UUID] | None = None,
    *, run_id: uuid.UUID | None = None, override: bool = False,
    prepared: tuple[MatchInputs, Solution] | None = None,
) -> list[Proposal]:
    """Propose for waiting demand (all of it, or the given placements) against free supply, now, in
    this transaction (the direct path: binding national runs). Event reactions do not call this:
    they ask the background matcher with `rematch.request(...)`.

    `prepared`: inputs loaded and solved under the allocator lock in this transaction (a binding run).
    """
    settings: MatchingSettings = runtime.settings  # type: ignore[assignment]
    await product_clock.refresh(session, runtime, clock_table)  # any replica's consumer may have moved it
    policy = await policies.current(session, runtime)
    w = policy.weights(override)
    if prepared is None:
        await repo.lock_allocator(session)
        inputs = await load_inputs(session, placement_ids)
        if not inputs.demands:
            return []
        offers = plan_inputs(inputs, settings, w,
                             settings.proposal_time_limit_s if run_id is None else settings.solver_time_limit_s)
    else:
        inputs, solution = prepared
        offers = plan_inputs(inputs, settings, w, solution=solution)
    created: list[Proposal] = []
    for offer in offers:
        row = inputs.rows[offer.index]
        row.shortfall_units = offer.shortfall_units
        if offer.allocations:
            created.append(await write_offer(session, runtime, row, inputs.plots, offer, run_id, policy=policy))
    return created


async def write_offer(session: AsyncSession, runtime: "ServiceRuntime", row: PlacementDemand, plots: list[Plot],
                      offer: Offer, run_id: uuid.UUID | None = None, *, policy: policies.Policy | None = None) -> Proposal:
    assert offer.cost is not None
    return await create_proposal(session, runtime, row, plots, offer.allocations, run_id, cost=offer.cost,
                                 binding_constraints=offer.binding_constraints, alternatives=offer.alternatives,
                                 policy=policy, passed_over=offer.passed_over)


@dataclasses.dataclass
class NewProposal:
    """A pending proposal as rows (its proposal, its allocations) and its event, not written yet."""

    values: dict
    allocations: list[dict]
    event: ev.ProposalCreated

    @property
    def housed(self) -> int:
        return self.values["unit_count"] - self.values["shortfall_units"]


def new_proposal(runtime: "ServiceRuntime", row: PlacementDemand, plots: list[Plot], allocations: list[Allocation],
                 run_id: uuid.UUID | None, *, cost: ev.CostBreakdown, binding_constraints: list[str],
                 alternatives: list[dict], policy: policies.Policy, passed_over: list[dict] | None = None) -> NewProposal:
    """The proposal for `row` (its demand now proposed), its allocations and its event, as plain values."""
    now = runtime.clock.now()  # product time: the deadline passes when the product's clock passes it
    rung = max((a.rung for a in allocations), key=lambda r: RUNG_INDEX[r])  # the highest rung climbed
    gemeenten = sorted({plots[a.plot].gemeente_code for a in allocations})
    parties = [{"role": Role.investor.value, "org": row.investor_org}] + [
        {"role": Role.municipality.value, "org": g} for g in gemeenten
    ]
    move_start = max([row.end_date] + [plots[a.plot].available_from for a in allocations])
    proposal_id = uuid.uuid4()
    values = dict(
        id=proposal_id, placement_id=row.placement_id, complex_id=row.complex_id, investor_org=row.investor_org,
        status="pending", unit_count=row.remaining_units, shortfall_units=row.shortfall_units, rung=rung.value,
        cost={**cost.model_dump(by_alias=False), "weights_version": policy.version}, policy_version=policy.version,
        binding_constraints=binding_constraints, alternatives=alternatives, passed_over=passed_over or [],
        parties=parties, acceptances=[], move_window_start=move_start,
        expires_at=now + policy.proposal_deadline, created_at=now, decided_at=None, reason=None, run_id=run_id,
    )
    rows = [dict(proposal_id=proposal_id, site_id=uuid.UUID(plots[a.plot].key), gemeente_code=plots[a.plot].gemeente_code,
                 units=a.units, distance_km=round(a.distance_km, 3), rung=a.rung.value) for a in allocations]
    row.demand_status = "proposed"
    event = ev.ProposalCreated(
        proposal_id=proposal_id, placement_id=row.placement_id, complex_id=row.complex_id, investor_org=row.investor_org,
        unit_count=values["unit_count"], allocations=event_allocations(plots, allocations), rung=rung,
        cost=cost, binding_constraints=values["binding_constraints"], alternatives=values["alternatives"],
        passed_over=values["passed_over"],
        parties=[ev.Party(role=Role(p["role"]), org=p["org"]) for p in parties], expires_at=values["expires_at"],
        shortfall_units=row.shortfall_units, move_window_start=move_start, policy_version=policy.version,
    )
    return NewProposal(values, rows, event)


async def insert_proposals(session: AsyncSession, runtime: "ServiceRuntime", made: list[NewProposal]) -> None:
    """Many new proposals at once: one multi-row statement each for the proposals, their allocations, their
    homes in the ledger and their events (the background matcher writes hundreds in a burst). Not through
    the session's objects: the caller holds no Proposal of these (none is in its identity map)."""
    if not made:
        return
    await repo.insert_many(session, [m.values for m in made], [a for m in made for a in m.allocations])
    await ledger.proposals_created(session, [(m.values["id"], m.values["placement_id"], m.housed) for m in made],
                                   runtime.clock.now().date())
    for m in made:
        await runtime.emit(session, "matching.proposal.created", m.values["id"], m.event)


async def create_proposal(
    session: AsyncSession, runtime: "ServiceRuntime", row: PlacementDemand, plots: list[Plot],
    allocations: list[Allocation], run_id: uuid.UUID | None, *, cost: ev.CostBreakdown, binding_constraints: list[str],
    alternatives: list[dict], policy: policies.Policy | None = None, passed_over: list[dict] | None = None,
) -> Proposal:
    """A pending proposal, its allocations, its homes in the ledger and its event, in the caller's transaction."""
    policy = policy or await policies.current(session, runtime)
    made = new_proposal(runtime, row, plots, allocations, run_id, cost=cost, binding_constraints=binding_constraints,
                        alternatives=alternatives, policy=policy, passed_over=passed_over)
    proposal = Proposal(**made.values)
    session.add(proposal)
    for a in made.allocations:
        session.add(ProposalAllocation(**a))
    await ledger.proposal_created(session, proposal.id, row.placement_id, made.housed, made.values["created_at"].date())
    await runtime.emit(session, "matching.proposal.created", proposal.id, made.event)
    return proposal


def housed_units(proposal: Proposal) -> int:
    """Homes the proposal finds a plot for (of the `unit_count` homes it was made for)."""
    return proposal.unit_count - proposal.shortfall_units


def event_allocations(plots: list[Plot], allocations: list[Allocation]) -> list[ev.ProposalAllocation]:
    return [
        ev.ProposalAllocation(site_id=uuid.UUID(plots[a.plot].key), gemeente_code=plots[a.plot].gemeente_code,
                              units=a.units, distance_km=round(a.distance_km, 3), rung=a.rung)
        for a in allocations
    ]


def stored_allocations(rows: list[ProposalAllocation]) -> list[ev.ProposalAllocation]:
    return [ev.ProposalAllocation(site_id=r.site_id, gemeente_code=r.gemeente_code, units=r.units,
                                  distance_km=r.distance_km, rung=LadderRung(r.rung)) for r in rows]


# ----------------------------------------------------------------- acceptance


def _party_of(proposal: Proposal, principal: Principal) -> dict | None:
    if principal.role is None:
        return None
    for p in proposal.parties:
        if p["role"] == principal.role.value and p["org"] == principal.org:
            return p
    return None


async def get_visible(session: AsyncSession, principal: Principal, proposal_id: uuid.UUID, lock: bool = False) -> Proposal:
    proposal = await repo.get_visible(session, principal, proposal_id, lock=lock)
    if proposal is None:
        raise not_found("proposal", proposal_id)
    return proposal


async def accept(session: AsyncSession, runtime: "ServiceRuntime", principal: Principal, proposal_id: uuid.UUID) -> Proposal:
    proposal = await get_visible(session, principal, proposal_id, lock=True)
    party = _party_of(proposal, principal)
    if party is None:
        raise ProblemError(403, "Forbidden", "Only a party to the proposal (its investor or a municipality of one of its plots) may accept it.")
    if any(a["role"] == party["role"] and a["org"] == party["org"] for a in proposal.acceptances):
        return proposal  # accepting twice changes nothing
    if proposal.status != "pending":
        raise conflict(f"The proposal is {proposal.status}; only pending proposals can be accepted.")
    now = runtime.clock.now()
    proposal.acceptances = [*proposal.acceptances, {**party, "by": principal.sub, "at": now.isoformat()}]
    if all(any(a["role"] == p["role"] and a["org"] == p["org"] for a in proposal.acceptances) for p in proposal.parties):
        proposal.status = "accepted"
        proposal.decided_at = now
        await _commit_part(session, proposal)
        await ledger.proposal_accepted(session, proposal.id, now.date())
        allocations = (await repo.allocations_of(session, [proposal.id]))[proposal.id]
        await runtime.emit(session, "matching.proposal.accepted", proposal.id, ev.ProposalAccepted(
            proposal_id=proposal.id, placement_id=proposal.placement_id, complex_id=proposal.complex_id,
            investor_org=proposal.investor_org, allocations=stored_allocations(allocations),
            move_window_start=proposal.move_window_start,
            parties=[ev.Party(role=Role(p["role"]), org=p["org"]) for p in proposal.parties],
        ))
        if proposal.shortfall_units:  # the remainder (restvraag) may be proposed now, not at the next supply event
            await rematch.request(session, runtime, [proposal.placement_id], reason="remainder_after_acceptance")
    await session.flush()
    return proposal


async def decline(
    session: AsyncSession, runtime: "ServiceRuntime", principal: Principal, proposal_id: uuid.UUID, reason: str | None
) -> Proposal:
    proposal = await get_visible(session, principal, proposal_id, lock=True)
    party = _party_of(proposal, principal)
    if party is None:
        raise ProblemError(403, "Forbidden", "Only a party to the proposal may decline it.")
    if proposal.status != "pending":
        raise conflict(f"The proposal is {proposal.status}; only pending proposals can be declined.")
    proposal.status, proposal.decided_at, proposal.reason = "declined", runtime.clock.now(), reason
    await ledger.proposal_ended(session, proposal.id, "declined", proposal.decided_at.date())
    await runtime.emit(session, "matching.proposal.declined", proposal.id, ev.ProposalDeclined(
        proposal_id=proposal.id, placement_id=proposal.placement_id,
        declined_by=ev.Party(role=Role(party["role"]), org=party["org"]), reason=reason,
    ))
    await return_to_pool(session, proposal, excluded_gemeente=party["org"] if party["role"] == Role.municipality.value else None)
    await session.flush()
    await rematch.request(session, runtime, [proposal.placement_id], reason="declined")
    return proposal


async def return_to_pool(session: AsyncSession, proposal: Proposal, excluded_gemeente: str | None = None,
                         remember_allocation: bool = True) -> None:
    """The placement is waiting demand again; the turned-down allocation is not offered again at once."""
    row = await rm_repo.demand_for_update(session, proposal.placement_id)
    if row is None or row.demand_status in ("ended", "fallback", "closed"):
        return
    allocations = (await repo.allocations_of(session, [proposal.id]))[proposal.id]
    if remember_allocation:
        row.declined_allocations = [*(row.declined_allocations or []), sorted([str(a.site_id), a.units] for a in allocations)]
    if excluded_gemeente:
        row.excluded_sites = sorted(set(row.excluded_sites or []) | {str(a.site_id) for a in allocations if a.gemeente_code == excluded_gemeente})
    await session.flush()
    # A pending proposal for the remainder still stands: it keeps the demand "proposed"; the returned
    # homes are proposed again once it is decided (accepted: they are what is left; else with it).
    other = await repo.open_proposal_for(session, proposal.placement_id, ("pending",))
    row.demand_status = "proposed" if other is not None and other.id != proposal.id else "waiting"


async def _commit_part(session: AsyncSession, proposal: Proposal) -> None:
    """Accepted: its housed homes are committed; a remainder (restvraag) is waiting demand of its own."""
    row = await rm_repo.demand_for_update(session, proposal.placement_id)
    if row is None:
        return
    row.committed_units = (row.committed_units or 0) + housed_units(proposal)
    if row.remaining_units > 0 and row.demand_status == "proposed":
        row.demand_status = "waiting"  # proposed again when supply appears (a new proposal of its own)


async def _uncommit_part(session: AsyncSession, proposal: Proposal) -> None:
    """An accepted/reserved/scheduled proposal withdrawn: its homes are demand again."""
    row = await rm_repo.demand_for_update(session, proposal.placement_id)
    if row is not None:
        row.committed_units = max(0, (row.committed_units or 0) - housed_units(proposal))


async def withdraw(session: AsyncSession, runtime: "ServiceRuntime", proposal: Proposal, reason: str) -> None:
    if proposal.status in COMMITTED_STATUSES:
        await _uncommit_part(session, proposal)
    proposal.status, proposal.decided_at, proposal.reason = "withdrawn", runtime.clock.now(), reason
    await ledger.proposal_ended(session, proposal.id, reason, proposal.decided_at.date())
    allocations = (await repo.allocations_of(session, [proposal.id]))[proposal.id]
    await runtime.emit(session, "matching.proposal.withdrawn", proposal.id, ev.ProposalWithdrawn(
        proposal_id=proposal.id, placement_id=proposal.placement_id, reason=reason,
        allocations=stored_allocations(allocations),
    ))


async def expire_overdue(session: AsyncSession, runtime: "ServiceRuntime") -> int:
    """Pending proposals past their deadline expire; their demand goes back to the pool and is matched again."""
    now = runtime.clock.now()
    overdue = await repo.overdue_pending(session, now)
    for proposal in overdue:
        proposal.status, proposal.decided_at = "expired", now
        await ledger.proposal_ended(session, proposal.id, "expired", now.date())
        await runtime.emit(session, "matching.proposal.expired", proposal.id,
                           ev.ProposalExpired(proposal_id=proposal.id, placement_id=proposal.placement_id))
        await return_to_pool(session, proposal)
    if overdue:
        await session.flush()
        await rematch.request(session, runtime, [p.placement_id for p in overdue], reason="expired")
    return len(overdue)


def shortfall_by_province_quarter(rows: list[tuple[str | None, dt.date, int]]) -> list[dict]:
    """Homes without a feasible plot, by province and quarter of the placement end date."""
    acc: dict[tuple[str, str], int] = defaultdict(int)
    for province, end_date, units in rows:
        if units > 0:
            acc[(province or "unknown", f"{end_date.year}-Q{(end_date.month - 1) // 3 + 1}")] += units
    return [{"province_code": p, "quarter": q, "units": u} for (p, q), u in sorted(acc.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
