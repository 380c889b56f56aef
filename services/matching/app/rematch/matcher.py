"""The background matcher: serves rematch requests in coalesced batches, off the event loop.

Why: a re-solve per event inside the consumer's inbox transaction made matching drain a burst of
plots at 7-9 events/s and stalled the API (issue #18). Now the consumer only folds and asks
(`rematch.service.request`); this loop, one leader across replicas (a session-level advisory
lock, as the outbox relay), waits a short window after it sees a request so the requests of a
burst ride along, then:

1. reads every outstanding request and the inputs they need (no locks, plain snapshot reads);
2. solves and explains in a worker thread or process (`matcher_executor`; a process runs at a lower
   CPU priority, `matcher_nice`), with a solver budget that scales with the size of the solve: the
   event loop keeps serving the API and the consumers meanwhile (and with a process, wins the CPU
   from the solver under a burst);
3. writes in one short transaction under the allocator lock, re-validating optimistically: a
   demand is still waiting and unchanged, each plot still published at the planned version with
   the units still free (after reservations and other open proposals). Offers that fail the check
   are not written; their demand is requested again. So capacity is never promised twice and a
   demand never gets two open proposals (also guarded by a unique index). The served request rows
   are deleted in this same transaction: a crash before it commits leaves them to be served again.

Stability rule: a re-solve only proposes for demand that is waiting (no open proposal). A pending
proposal is never withdrawn or re-created by a re-solve, even when a new plan would house its homes
more cheaply: parties may be deciding on it. It is withdrawn only when it became infeasible (its
plot withdrawn, its reservation rejected, its placement ended), and the demand then waits again.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import multiprocessing
import os
import time
import uuid
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any

from prometheus_client import Counter, Histogram

from services.matching.app.db import clock_table
from services.matching.app.policy import service as policies
from services.matching.app.proposals import repository as proposals_repo
from services.matching.app.proposals import service as proposals
from services.matching.app.readmodel import repository as rm_repo
from services.matching.app.readmodel.models import PlacementDemand
from services.matching.app.rematch import repository as repo
from shared import product_clock

if TYPE_CHECKING:
    from services.matching.app.config import MatchingSettings
    from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

REMATCH_SOLVES = Counter("matching_rematch_solves_total", "Coalesced re-solves of waiting demand", ["outcome"])
REMATCH_REQUESTS = Counter("matching_rematch_requests_served_total", "Rematch requests served")
REMATCH_DROPPED = Counter("matching_rematch_dropped_total", "Placements whose rematch failed on their own (logged)")
REMATCH_STALE = Counter("matching_rematch_stale_offers_total", "Offers not written: demand or plots changed meanwhile")
REMATCH_WAIT = Histogram("matching_rematch_wait_seconds", "Age of the oldest request a re-solve served",
                         buckets=(0.1, 0.25, 0.5, 1, 2, 5, 10, 30))


WRITE_CHUNK = 50  # offers per flush while writing a re-solve's proposals


def _fingerprint(row: PlacementDemand) -> tuple:
    """What a planned offer depends on: if any of it changed meanwhile, the offer is stale."""
    return (row.unit_count, row.remaining_units, row.storage_since, row.end_date, row.lat, row.lon, row.complex_spec,
            row.excluded_sites, row.declined_allocations)


def _lower_priority(nice: int) -> None:
    """Worker process initializer: the solver runs at a lower CPU priority than the API and the consumers.
    (Not for a worker thread: a thread of low priority holding the GIL would hold up the event loop.)"""
    if nice > 0:
        with contextlib.suppress(OSError):
            os.nice(nice)


def _warm() -> bool:
    """Runs once in a new worker process: the imports done before the first burst needs them."""
    return True


def oldest_first(requests: list[tuple[int, uuid.UUID | None]], limit: int
                 ) -> tuple[list[tuple[int, uuid.UUID | None]], list[uuid.UUID]]:
    """The placements of the oldest requests, at most `limit`, and every request (of those read) for them."""
    chosen: dict[uuid.UUID, None] = {}
    for _, placement in requests:  # by id: the order they were made in
        if placement not in chosen and len(chosen) == limit:
            break
        chosen[placement] = None  # type: ignore[index]
    return [r for r in requests if r[1] in chosen], sorted(chosen)  # type: ignore[type-var]


def time_limit_for(settings: "MatchingSettings", demands: int) -> float:
    """The solver budget of one re-solve: proportional to its demand, between the floor and the cap."""
    return min(settings.proposal_time_limit_s,
               max(settings.proposal_time_floor_s, settings.proposal_time_per_demand_s * demands))


class Matcher:
    def __init__(self, runtime: "ServiceRuntime") -> None:
        self.runtime = runtime
        self.settings: MatchingSettings = runtime.settings  # type: ignore[assignment]
        self.wakeup = asyncio.Event()
        self.backlog = False  # the last solve left requests it had seen: serve them without waiting the window
        self._pool: Executor | None = None

    # -- one coalesced re-solve

    async def serve_once(self) -> int:
        """Serve the outstanding requests with one solve; returns the proposals made. Requests for given
        placements are served oldest first, at most `rematch_max_demands` placements per solve: under a
        burst the first ones are proposed for within a short solve instead of waiting for one big solve
        of the whole backlog (which the next solve serves, without waiting the window)."""
        requests, scope = await self._outstanding()
        if not requests:
            return 0
        self.backlog = False
        if scope is not None and len(scope) > self.settings.rematch_max_demands:
            requests, scope = oldest_first(requests, self.settings.rematch_max_demands)
            self.backlog = True
        return await self._serve([i for i, _ in requests], scope)

    async def serve_bisected(self) -> int:
        """After repeated failures: serve the requested demand in halves, down to single placements, so a
        demand the matcher cannot handle (a defect) holds up no other. Its request is dropped with an
        error logged, as a dead letter would be; its next event requests it again. When every part
        fails the cause is not one demand (e.g. the database): the requests stay."""
        requests, scope = await self._outstanding()
        if not requests:
            return 0
        if scope is None:
            async with self.runtime.db.sessions() as session:  # type: ignore[union-attr]
                scope = await rm_repo.waiting_ids(session)
        made, served, failed = await self._bisect(scope)
        if served == 0 and failed:
            raise RuntimeError("rematch failed for every part of the demand")
        async with self.runtime.transaction() as session:
            await repo.delete(session, [i for i, _ in requests])
        return made

    async def _bisect(self, placements: list[uuid.UUID]) -> tuple[int, int, int]:
        """(proposals made, parts served, placements dropped)."""
        try:
            return await self._serve([], placements), 1, 0
        except Exception:
            if len(placements) <= 1:
                log.error("rematch of a placement failed; its request is dropped", exc_info=True,
                          extra={"placement_id": str(placements[0]) if placements else None})
                REMATCH_DROPPED.inc(len(placements))
                return 0, 0, len(placements)
        mid = len(placements) // 2
        left, right = await self._bisect(placements[:mid]), await self._bisect(placements[mid:])
        return left[0] + right[0], left[1] + right[1], left[2] + right[2]

    async def _outstanding(self) -> tuple[list[tuple[int, uuid.UUID | None]], list[uuid.UUID] | None]:
        """The requests not served yet, and the demand they ask for (None: all waiting demand)."""
        async with self.runtime.db.sessions() as session:  # type: ignore[union-attr]
            requests = await repo.outstanding(session)
        scope = None if any(p is None for _, p in requests) else sorted({p for _, p in requests if p is not None})
        return requests, scope

    async def _serve(self, request_ids: list[int], scope: list[uuid.UUID] | None) -> int:
        """One solve for this demand; the given requests are deleted with the proposals written."""
        db = self.runtime.db
        assert db is not None
        t0 = time.perf_counter()
        async with db.sessions() as session:
            oldest = await repo.oldest_age_s(session)
            await product_clock.refresh(session, self.runtime, clock_table)  # any replica's consumer may have moved it
            policy = await policies.current(session, self.runtime)
            inputs = await proposals.load_inputs(session, scope, lock=False)
            fingerprints = [_fingerprint(r) for r in inputs.rows]
            declined = [list(r.declined_allocations or []) for r in inputs.rows]
        started, outcome = time.perf_counter(), "error"
        try:
            offers, stats = await self._plan(inputs, declined, policy.weights()) if inputs.demands else ([], {})
            planned = time.perf_counter()
            async with self.runtime.transaction() as session:
                await proposals_repo.lock_allocator(session)
                made, stale = await self._write(session, inputs, fingerprints, offers, policy)
                await repo.delete(session, request_ids)
                if stale:
                    await repo.add(session, stale, "stale_plan")
            outcome = "ok"
        finally:
            REMATCH_SOLVES.labels(outcome).inc()
        REMATCH_REQUESTS.inc(len(request_ids))
        REMATCH_STALE.inc(len(stale))
        REMATCH_WAIT.observe(oldest)
        log.info("rematch served", extra={
            "requests": len(request_ids), "demands": len(inputs.demands), "plots": len(inputs.plots), "proposals": made,
            "stale": len(stale), "oldest_request_s": round(oldest, 3), "load_s": round(started - t0, 3),
            "time_limit_s": round(time_limit_for(self.settings, len(inputs.demands)), 3),
            "plan_s": round(planned - started, 3), "write_s": round(time.perf_counter() - planned, 3),
            "solver": {k: stats.get(k) for k in ("method", "wall_s", "arc_build_s", "arcs", "mip_status", "mip_gap",
                                                 "time_limit_s")}})
        return made

    def _executor(self) -> Executor:
        """The one worker the matcher plans in (a process at a lower CPU priority, `matcher_nice`)."""
        if self._pool is None:
            s = self.settings
            if s.matcher_executor == "process":
                self._pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"),
                                                 initializer=_lower_priority, initargs=(s.matcher_nice,))
            else:
                self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="matcher")
        return self._pool

    async def warm_up(self) -> None:
        """Start the worker (a process imports the solver) before a burst needs it."""
        if self.settings.matcher_executor == "process":
            await asyncio.get_running_loop().run_in_executor(self._executor(), _warm)

    async def _plan(self, inputs: proposals.MatchInputs, declined: list[list], w: Any) -> tuple[list[proposals.Offer], dict]:
        s = self.settings
        limit = time_limit_for(s, len(inputs.demands))
        # within `limit`, the budget counts only the demands a search can improve: most of a backlog
        # slice of expiring placements may have no feasible arc at all
        plan = functools.partial(proposals.plan_offers, per_demand_s=s.proposal_time_per_searchable_s,
                                 floor_s=s.proposal_time_floor_s)
        args = (inputs.demands, inputs.plots, declined, w, s.arc_k, limit, s.proposal_time_limit_s)
        return await asyncio.get_running_loop().run_in_executor(self._executor(), plan, *args)

    async def _write(self, session: Any, inputs: proposals.MatchInputs, fingerprints: list[tuple],
                     offers: list[proposals.Offer], policy: policies.Policy) -> tuple[int, list[uuid.UUID]]:
        rows = await rm_repo.demand_for_update_many(session, [r.placement_id for r in inputs.rows])
        planned_version = {r.site_id: r.version for r in inputs.plot_rows}
        sites = sorted({uuid.UUID(inputs.plots[a.plot].key) for o in offers for a in o.allocations})
        free = {site: units for site, (version, units) in (await rm_repo.free_units_by_site(session, sites)).items()
                if version == planned_version.get(site)}
        stale: list[uuid.UUID] = []
        # hundreds of proposals at once: a flush and an outbox statement per chunk, not round trips per
        # proposal; the chunks also let the event loop serve requests in between
        with session.no_autoflush:
            async with self.runtime.batched_emits(session) as batch:
                made = await self._write_offers(session, batch, inputs, fingerprints, offers, rows, free, stale, policy)
        await session.flush()
        return made, stale

    async def _write_offers(self, session: Any, batch: Any, inputs: proposals.MatchInputs, fingerprints: list[tuple],
                            offers: list[proposals.Offer], rows: dict[uuid.UUID, PlacementDemand],
                            free: dict[uuid.UUID, int], stale: list[uuid.UUID], policy: policies.Policy) -> int:
        made = 0
        chunk: list[proposals.NewProposal] = []  # one multi-row statement per table per chunk

        async def flush() -> None:
            await proposals.insert_proposals(session, self.runtime, chunk)
            await batch.write(session)
            await session.flush()  # the demand rows now proposed
            chunk.clear()

        for offer in offers:
            if len(chunk) == WRITE_CHUNK:
                await flush()
            placement_id = inputs.rows[offer.index].placement_id
            row = rows.get(placement_id)
            if row is None or row.demand_status != "waiting":
                continue  # proposed, reserved or ended meanwhile: nothing left to do for it
            if _fingerprint(row) != fingerprints[offer.index]:
                stale.append(placement_id)
                continue
            need: dict[uuid.UUID, int] = {}
            for a in offer.allocations:
                site = uuid.UUID(inputs.plots[a.plot].key)
                need[site] = need.get(site, 0) + a.units
            if any(free.get(site, 0) < units for site, units in need.items()):
                stale.append(placement_id)  # plot withdrawn, changed or taken meanwhile
                continue
            row.shortfall_units = offer.shortfall_units
            if not offer.allocations:
                continue
            for site, units in need.items():
                free[site] -= units
            assert offer.cost is not None
            chunk.append(proposals.new_proposal(
                self.runtime, row, inputs.plots, offer.allocations, None, cost=offer.cost,
                binding_constraints=offer.binding_constraints, alternatives=offer.alternatives, policy=policy,
                passed_over=offer.passed_over))
            made += 1
        await flush()
        return made

    # -- leadership and the loop

    async def run(self, stop: asyncio.Event) -> None:
        assert self.runtime.db is not None
        try:
            while not stop.is_set():
                try:
                    async with self.runtime.db.engine.connect() as lock_conn:
                        await lock_conn.execution_options(isolation_level="AUTOCOMMIT")
                        if not await repo.try_lead(lock_conn):
                            await _sleep_or_stop(stop, 2.0)
                            continue
                        log.info("matcher is leader")
                        with contextlib.suppress(Exception):
                            await self.warm_up()
                        try:
                            await self._lead(stop, lock_conn)
                        finally:
                            with contextlib.suppress(Exception):
                                await repo.stop_leading(lock_conn)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # database away: wait and try again
                    log.warning("matcher error", extra={"error": repr(exc)})
                    await _sleep_or_stop(stop, 1.0)
        finally:
            if self._pool is not None:
                self._pool.shutdown(wait=False, cancel_futures=True)

    async def _lead(self, stop: asyncio.Event, lock_conn: Any) -> None:
        db = self.runtime.db
        assert db is not None
        loop = asyncio.get_running_loop()
        last_ping = loop.time()
        failures = 0
        while not stop.is_set():
            self.wakeup.clear()
            async with db.sessions() as session:
                pending = await repo.any_outstanding(session)
            if pending:
                if not self.backlog:  # coalesce: requests committed within the window are served by the same solve
                    await _sleep_or_stop(stop, self.settings.rematch_window_s)
                if stop.is_set():
                    return
                try:
                    if failures >= self.settings.rematch_bisect_after_failures:
                        await self.serve_bisected()
                    else:
                        await self.serve_once()
                    failures = 0
                except Exception:  # e.g. a deadlock with a handler: the requests stay, try again shortly
                    self.backlog = False
                    failures += 1
                    log.exception("rematch failed; will retry", extra={"failures": failures})
                    await _sleep_or_stop(stop, min(1.0 * failures, 10.0))
                continue
            if loop.time() - last_ping > 10:
                await repo.keep_alive(lock_conn)  # keeps the leader's connection (and lock) alive
                last_ping = loop.time()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.wakeup.wait(), self.settings.rematch_poll_interval_s)


async def matcher_loop(runtime: "ServiceRuntime", stop: asyncio.Event) -> None:
    """Background task of the matching service (see the module docstring)."""
    if not runtime.settings.matcher_enabled:  # type: ignore[attr-defined]
        return
    matcher = Matcher(runtime)
    runtime.commit_listeners.append(matcher.wakeup.set)
    await matcher.run(stop)


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
