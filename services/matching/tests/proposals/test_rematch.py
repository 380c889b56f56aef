"""Re-solves decoupled from event consumption: the consumer folds and requests, the background matcher
solves (coalesced), and writes only what is still valid."""

from __future__ import annotations

import uuid

import pytest
import sqlalchemy as sa
from prometheus_client import REGISTRY

from herplaatsing.testing import eventually, headers_for, running_app
from services.matching.app.main import create_app
from services.matching.app.proposals.models import Proposal, ProposalAllocation
from services.matching.app.readmodel import service as readmodel
from services.matching.app.readmodel.models import PlacementDemand, PlotView
from services.matching.app.rematch import service as rematch
from services.matching.app.rematch.matcher import Matcher, oldest_first
from services.matching.app.rematch.models import RematchRequest
from services.matching.tests.conftest import complex_spec, expiring, site
from services.matching.tests.proposals.test_flow import _proposals, _stream_types
from shared.domain import Role
from shared.events import models as ev


def _solver_runs() -> float:
    return sum(REGISTRY.get_sample_value("solver_runs_total", {"method": "auto", "outcome": o}) or 0 for o in ("ok", "error"))


def _rematch_solves() -> float:
    return REGISTRY.get_sample_value("matching_rematch_solves_total", {"outcome": "ok"}) or 0


async def _count(db, model, *where) -> int:
    async with db.sessions() as s:
        return await s.scalar(sa.select(sa.func.count()).select_from(model).where(*where)) or 0


async def _all_acked(runtime) -> bool:
    for consumer in runtime.consumers:
        info = await runtime.js.consumer_info(runtime.settings.stream_name, consumer.name)
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def test_the_consumer_acks_without_solving_and_a_restarted_matcher_serves_the_request(settings, publish):
    # A replica whose matcher is not running (stopped, or crashed after the fold committed).
    idle = settings.model_copy(update={"matcher_enabled": False})
    solver_runs = _solver_runs()
    plot = site(capacity=40)
    demand = expiring(complex_spec(unit_count=20))
    app = create_app(idle)
    async with running_app(app) as client:
        db = app.state.runtime.db
        await publish("sites.site.published", plot, plot.site_id)
        await publish("inventory.placement.expiring", demand, demand.placement_id)

        async def folded_and_acked():
            return (await _count(db, PlotView) == 1 and await _count(db, PlacementDemand) == 1
                    and await _all_acked(app.state.runtime))
        await eventually(folded_and_acked)
        # the fold committed with its request; nothing was solved in the inbox transaction
        assert await _count(db, RematchRequest) == 2
        assert _solver_runs() == solver_runs
        assert await _proposals(client, idle) == []

    # the matcher comes back: the durable request is served
    app = create_app(settings)
    async with running_app(app) as client:
        [proposal] = await eventually(lambda: _proposals(client, settings))
        assert proposal["placement_id"] == str(demand.placement_id)
        assert proposal["allocations"][0]["site_id"] == str(plot.site_id)
        await eventually(lambda: _no_requests(app))


async def _no_requests(app) -> bool:
    return await _count(app.state.runtime.db, RematchRequest) == 0


async def test_a_burst_of_site_events_is_served_by_few_solves_and_every_demand_gets_a_proposal(settings, publish):
    settings = settings.model_copy(update={"rematch_window_s": 0.5})
    publish.settings = settings
    app = create_app(settings)
    async with running_app(app) as client:
        demands = [expiring(complex_spec(unit_count=20), lat=52.21 + i * 0.002) for i in range(8)]
        for d in demands:
            await publish("inventory.placement.expiring", d, d.placement_id)

        async def all_short():  # no supply yet: every demand was solved once, and is short
            r = await client.get("/api/v1/stats/proposals", headers=headers_for(settings, Role.marktmeester))
            return r.json()["shortfall_units"] == 160 and await _no_requests(app)
        await eventually(all_short)

        solves = _rematch_solves()
        burst = [site(capacity=10, lat=52.20 + i * 0.003) for i in range(30)]
        for s in burst:
            await publish("sites.site.published", s, s.site_id)

        async def all_proposed():
            rows = await _proposals(client, settings, status="pending", limit=100)
            return len(rows) == len(demands) and rows
        rows = await eventually(all_proposed, timeout=30)
        await eventually(lambda: _no_requests(app))
        assert _rematch_solves() - solves <= len(burst) / 5  # coalesced: far fewer solves than events
        assert {r["placement_id"] for r in rows} == {str(d.placement_id) for d in demands}
        used: dict[str, int] = {}
        for r in rows:  # (a solve that saw only part of the burst may house a demand partly: its shortfall is reported)
            assert sum(a["units"] for a in r["allocations"]) + r["shortfall_units"] == 20
            for a in r["allocations"]:
                used[a["site_id"]] = used.get(a["site_id"], 0) + a["units"]
        assert all(units <= 10 for units in used.values())  # never overbooked


async def test_a_re_solve_with_no_material_change_leaves_the_pending_proposal_untouched(app_client, settings, publish):
    plot = site(capacity=40)
    await publish("sites.site.published", plot, plot.site_id)
    demand = expiring(complex_spec(unit_count=20))
    await publish("inventory.placement.expiring", demand, demand.placement_id)
    [before] = await eventually(lambda: _proposals(app_client, settings))

    # supply events that change nothing material for it: the same plot again (new version), another plot
    solves = _rematch_solves()
    await publish("sites.site.updated", ev.SiteUpdated(**{**plot.model_dump(), "version": 2}), plot.site_id)
    other = site(capacity=30, lat=52.25)
    await publish("sites.site.published", other, other.site_id)

    async def re_solved():
        return _rematch_solves() > solves and await _count(app_client.app.state.runtime.db, PlotView) == 2 \
            and await _no_requests(app_client.app)
    await eventually(re_solved)
    [after] = await _proposals(app_client, settings)
    assert (after["id"], after["status"], after["allocations"]) == (before["id"], "pending", before["allocations"])
    types = [e["type"] for e in await _stream_types(settings)]
    assert types.count("matching.proposal.created") == 1 and "matching.proposal.withdrawn" not in types


class _RacedMatcher(Matcher):
    """Between planning and writing, the sites service reserves most of the planned plot for someone else."""

    def __init__(self, runtime, site_id: uuid.UUID) -> None:
        super().__init__(runtime)
        self.site_id = site_id

    async def _plan(self, inputs, declined, w):
        planned = await super()._plan(inputs, declined, w)
        async with self.runtime.transaction() as session:
            await readmodel.record_reserved(session, [ev.ReleasedSite(site_id=self.site_id, units=0, reserved_units=35)])
        return planned


async def test_a_plan_made_stale_meanwhile_is_not_written_and_the_demand_is_requested_again(settings, publish):
    idle = settings.model_copy(update={"matcher_enabled": False})
    publish.settings = idle
    app = create_app(idle)
    async with running_app(app) as client:
        runtime, db = app.state.runtime, app.state.runtime.db
        plot = site(capacity=40)
        demand = expiring(complex_spec(unit_count=20))
        await publish("sites.site.published", plot, plot.site_id)
        await publish("inventory.placement.expiring", demand, demand.placement_id)

        async def folded():
            return await _count(db, PlotView) == 1 and await _count(db, RematchRequest) == 2
        await eventually(folded)

        assert await _RacedMatcher(runtime, plot.site_id).serve_once() == 0
        # only 5 of the 40 places are free now: nothing promised beyond them, the demand waits and is asked for again
        assert await _count(db, Proposal) == 0 and await _count(db, ProposalAllocation) == 0
        async with db.sessions() as s:
            requests = (await s.execute(sa.select(RematchRequest.placement_id, RematchRequest.reason))).all()
            status = await s.scalar(sa.select(PlacementDemand.demand_status))
        assert [tuple(r) for r in requests] == [(demand.placement_id, "stale_plan")] and status == "waiting"

        # served again, against what is free now: the 5 free places, the rest of the homes short
        assert await Matcher(runtime).serve_once() == 1
        assert await _count(db, RematchRequest) == 0
        [proposal] = await _proposals(client, idle)
        assert [(a["site_id"], a["units"]) for a in proposal["allocations"]] == [(str(plot.site_id), 5)]
        assert proposal["shortfall_units"] == 15


async def test_a_backlog_of_placements_is_served_oldest_first_in_short_solves(settings, publish):
    idle = settings.model_copy(update={"matcher_enabled": False, "rematch_max_demands": 3})
    publish.settings = idle
    app = create_app(idle)
    async with running_app(app):
        runtime, db = app.state.runtime, app.state.runtime.db
        demands = [expiring(complex_spec(unit_count=10)) for _ in range(7)]
        for d in demands:
            await publish("inventory.placement.expiring", d, d.placement_id)
        await eventually(lambda: _requests_for(db, demands))
        plot = site(capacity=200)
        async with runtime.transaction() as session:  # the plot without its request for all waiting demand
            await readmodel.record_site(session, plot)
        async with runtime.transaction() as session:  # the oldest placement is asked for again meanwhile
            await rematch.request(session, runtime, [demands[0].placement_id], reason="placement_changed")

        matcher = Matcher(runtime)
        assert await matcher.serve_once() == 3 and matcher.backlog  # the three oldest; more are waiting
        assert await _proposed(db) == {d.placement_id for d in demands[:3]}
        assert await _requests_for(db, demands[3:])  # the oldest's second request served with its first
        assert await matcher.serve_once() == 3 and await _proposed(db) == {d.placement_id for d in demands[:6]}
        assert await matcher.serve_once() == 1 and not matcher.backlog
        assert await _count(db, RematchRequest) == 0


async def _requests_for(db, demands) -> bool:
    async with db.sessions() as s:
        return sorted(await s.scalars(sa.select(RematchRequest.placement_id))) == sorted(d.placement_id for d in demands)


async def _proposed(db) -> set[uuid.UUID]:
    async with db.sessions() as s:
        return set(await s.scalars(sa.select(Proposal.placement_id)))


def test_oldest_first_takes_the_placements_of_the_oldest_requests_and_every_request_for_them():
    a, b, c = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    requests = [(1, b), (2, a), (3, b), (4, c), (5, a)]
    assert oldest_first(requests, 2) == ([(1, b), (2, a), (3, b), (5, a)], sorted([a, b]))
    assert oldest_first(requests, 3) == (requests, sorted([a, b, c]))


class _DefectMatcher(Matcher):
    """A matcher with a defect that shows for some demand only (or for all of it)."""

    def __init__(self, runtime, bad: set[str] | None) -> None:
        super().__init__(runtime)
        self.bad = bad

    async def _plan(self, inputs, declined, w):
        if self.bad is None or self.bad & {d.key for d in inputs.demands}:
            raise RuntimeError("defect")
        return await super()._plan(inputs, declined, w)


async def test_a_demand_the_matcher_fails_on_holds_up_no_other(settings, publish):
    idle = settings.model_copy(update={"matcher_enabled": False})
    publish.settings = idle
    app = create_app(idle)
    async with running_app(app) as client:
        runtime, db = app.state.runtime, app.state.runtime.db
        plot = site(capacity=60)
        await publish("sites.site.published", plot, plot.site_id)
        demands = [expiring(complex_spec(unit_count=10)) for _ in range(5)]
        for d in demands:
            await publish("inventory.placement.expiring", d, d.placement_id)

        async def folded():
            return await _count(db, PlacementDemand) == 5 and await _count(db, RematchRequest) == 6
        await eventually(folded)

        # a failure of the whole database-side kind keeps every request
        with pytest.raises(RuntimeError):
            await _DefectMatcher(runtime, None).serve_bisected()
        assert await _count(db, RematchRequest) == 6

        bad = str(demands[2].placement_id)
        assert await _DefectMatcher(runtime, {bad}).serve_bisected() == 4
        proposed = {p["placement_id"] for p in await _proposals(client, idle)}
        assert proposed == {str(d.placement_id) for d in demands} - {bad}
        assert await _count(db, RematchRequest) == 0  # the failing one is logged and dropped, not retried forever


async def _worker_priority(matcher: Matcher) -> int:
    import asyncio
    return await asyncio.get_running_loop().run_in_executor(matcher._executor(), _own_priority)


def _own_priority() -> int:
    import os
    import threading
    return os.getpriority(os.PRIO_PROCESS, threading.get_native_id())


async def test_the_matcher_plans_in_a_worker_process_at_a_lower_cpu_priority_than_the_api(settings):
    # under a burst the API, the consumers and PostgreSQL must win the CPU from the solver
    import types
    matcher = Matcher(types.SimpleNamespace(settings=settings.model_copy(update={"matcher_executor": "process", "matcher_nice": 7})))
    try:
        await matcher.warm_up()
        assert await _worker_priority(matcher) == min(19, _own_priority() + 7)
        assert _own_priority() < await _worker_priority(matcher)  # the caller (the event loop) keeps its priority
    finally:
        matcher._pool.shutdown(wait=True)


def test_the_solver_budget_of_a_re_solve_scales_with_its_demand(settings):
    from services.matching.app.rematch.matcher import time_limit_for
    s = settings.model_copy(update={"proposal_time_limit_s": 2.0, "proposal_time_floor_s": 0.25,
                                    "proposal_time_per_demand_s": 0.004})
    assert time_limit_for(s, 1) == 0.25  # a few placements: served in a fraction of a second
    assert time_limit_for(s, 250) == pytest.approx(1.0)
    assert time_limit_for(s, 2000) == 2.0  # never more than the cap


async def test_a_burst_solved_in_a_worker_process_records_each_proposals_homes_and_remainder_in_the_ledger(settings, publish):
    from services.matching.app.ledger.models import LedgerHome
    settings = settings.model_copy(update={"rematch_window_s": 0.5, "matcher_executor": "process"})
    publish.settings = settings
    app = create_app(settings)
    async with running_app(app) as client:
        # 6 x 20 homes against 9 x 10 units: every demand is proposed, some only in part (a remainder)
        for i in range(9):
            s = site(capacity=10, lat=52.20 + i * 0.003)
            await publish("sites.site.published", s, s.site_id)
        demands = [expiring(complex_spec(unit_count=20), lat=52.21 + i * 0.002) for i in range(6)]
        for d in demands:
            await publish("inventory.placement.expiring", d, d.placement_id)

        async def settled():
            rows = await _proposals(client, settings, status="pending", limit=100)
            return await _no_requests(app) and await _all_acked(app.state.runtime) and rows
        rows = await eventually(settled, timeout=60)
        assert sum(sum(a["units"] for a in r["allocations"]) for r in rows) == 90  # all supply proposed, none twice
        async with app.state.runtime.db.sessions() as s:
            homes = (await s.execute(sa.select(LedgerHome.placement_id, LedgerHome.proposal_id, LedgerHome.state,
                                               LedgerHome.reason))).all()
        for r in rows:
            mine = [h for h in homes if str(h.placement_id) == r["placement_id"]]
            housed = sum(a["units"] for a in r["allocations"])
            assert len(mine) == 20
            covered = [h for h in mine if h.proposal_id is not None]
            assert {str(h.proposal_id) for h in covered} == {r["id"]} and len(covered) == housed
            assert {h.state for h in covered} == {"proposed"}
            rest = [h for h in mine if h.proposal_id is None]
            assert len(rest) == r["shortfall_units"] == 20 - housed
            assert all(h.state == "expiring" and h.reason == "remainder" for h in rest)
