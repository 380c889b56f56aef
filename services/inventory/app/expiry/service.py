"""The expiry scan: walks each placement's lifecycle forward as the clock passes its dates.

Per placement, in order: started (a follow-up placement's start date came), expiring (the end is
within the horizon), ended (relocated, or into storage until end + the storage gap), fallback (the
storage period passed without a plot: RTHF terugvaloptie). Each step is claimed and its event
written in one transaction, so every event goes out exactly once; the scan repeats its rounds
until nothing is due, so a clock jump of years walks a placement through several steps in order.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.complexes import repository as complexes_repo
from services.inventory.app.complexes.service import spec
from services.inventory.app.deps import settings_of
from services.inventory.app.expiry import repository
from services.inventory.app.expiry.schemas import ExpiryScanResult
from services.inventory.app.placements import lifecycle
from services.inventory.app.placements import repository as placements
from services.inventory.app.placements.lifecycle import Lifecycle
from services.inventory.app.placements.models import Placement
from services.inventory.app.placements.service import fallback_claim, homes_of
from services.inventory.app.policy.service import horizon_months, storage_gap_months
from shared.clock import add_months, utcnow
from shared.domain import PermitInstrument, UnitStatus
from shared.events.models import PlacementEnded, PlacementExpiring, PlacementFallback, PlacementStarted
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)

# Each step only moves forward through the lifecycle, so rounds end; the cap is a safety net.
MAX_ROUNDS = 10


async def _emit_started(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today: dt.date) -> None:
    unit_ids = await placements.unit_ids_by_placement(session, [p.id for p in claimed])
    for p in claimed:
        lifecycle.advance(p, Lifecycle.active)
        await runtime.emit(
            session,
            "inventory.placement.started",
            p.id,
            PlacementStarted(
                **homes_of(p, unit_ids[p.id]),
                start_date=p.start_date,
                relocation_id=p.created_by_relocation_id,
            ),
        )
    # A placement left from storage (it ended before its plan was made) is settled once its homes arrived:
    # relocated, or back in storage when the plan took only part of its homes (they fall back in time).
    for old in await repository.lock_relocated_from(session, [p.created_by_relocation_id for p in claimed]):
        if old.lifecycle == Lifecycle.relocation_scheduled.value and old.ended_emitted_at is not None:
            left = await repository.left_behind(session, old)
            lifecycle.advance(old, Lifecycle.in_storage if left else Lifecycle.relocated)
    await session.flush()


async def _emit_expiring(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today: dt.date) -> None:
    complexes = await complexes_repo.by_ids(session, {p.complex_id for p in claimed})
    unit_ids = await placements.unit_ids_by_placement(session, [p.id for p in claimed])
    now = utcnow()
    for p in claimed:
        lifecycle.advance(p, Lifecycle.expiring)
        p.expiring_emitted_at = now
        await runtime.emit(
            session,
            "inventory.placement.expiring",
            p.id,
            PlacementExpiring(
                placement_id=p.id,
                complex=spec(complexes[p.complex_id]),
                unit_ids=unit_ids[p.id],
                site_id=p.site_id,
                gemeente_code=p.gemeente_code,
                province_code=p.province_code,
                lat=p.lat,
                lon=p.lon,
                instrument=PermitInstrument(p.instrument),
                start_date=p.start_date,
                end_date=p.end_date,
                sequence_no=p.sequence_no,
                detected_on=today,
            ),
        )
    await session.flush()


async def _emit_ended(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today: dt.date) -> None:
    gap = await storage_gap_months(session, runtime)
    unit_ids = await placements.unit_ids_by_placement(session, [p.id for p in claimed])
    now = utcnow()
    for p in claimed:
        relocated = p.relocation_id is not None
        # relocated in part: the homes no plan took are stored like any unrelocated home, and fall back in time
        stored = not relocated or bool(await repository.left_behind(session, p))
        lifecycle.advance(p, Lifecycle.in_storage if stored else Lifecycle.relocated)
        p.ended_emitted_at = now
        if stored:
            # The end day is the move day: storage starts then and counts up to the longest storage period.
            p.storage_since, p.storage_until = p.end_date, add_months(p.end_date, gap)
        await runtime.emit(
            session,
            "inventory.placement.ended",
            p.id,
            PlacementEnded(
                placement_id=p.id,
                complex_id=p.complex_id,
                investor_org=p.investor_org,
                end_date=p.end_date,
                relocated=relocated,
                unit_count=p.unit_count,
                unit_ids=unit_ids[p.id],
                storage_until=p.storage_until if stored else None,
            ),
        )
    await session.flush()
    relocated_ids = [p.id for p in claimed if p.relocation_id is not None]
    # Homes with a follow-up plot are on the move; the others go into storage.
    await repository.release_units(session, relocated_ids, UnitStatus.in_transit.value, today)
    await repository.store_unrelocated(session, relocated_ids, today)
    await repository.release_units(session, [p.id for p in claimed if p.relocation_id is None], UnitStatus.stored.value, today)


async def _emit_fallback(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today: dt.date) -> None:
    unit_ids = await placements.unit_ids_by_placement(session, [p.id for p in claimed])
    for p in claimed:
        if p.relocation_id is not None:  # relocated in part: only the homes left behind fall back
            unit_ids[p.id] = await repository.left_behind(session, p)
        claim = await fallback_claim(session, p, unit_ids[p.id], today)
        lifecycle.advance(p, Lifecycle.fallback)
        p.fallback_claim = claim.model_dump(mode="json")
        await runtime.emit(
            session,
            "inventory.placement.fallback",
            p.id,
            PlacementFallback(
                **homes_of(p, unit_ids[p.id]),
                storage_since=p.storage_since or p.end_date,
                claim=claim,
            ),
        )
    await session.flush()


Claim = Callable[[AsyncSession, dt.date, int], Awaitable[list[Placement]]]
Emit = Callable[[AsyncSession, ServiceRuntime, list[Placement], dt.date], Awaitable[None]]


async def _step(runtime: ServiceRuntime, claim: Claim, emit: Emit, bound: dt.date, today: dt.date, batch: int) -> int:
    """Claim and emit batch after batch until nothing of this step is due; the number done."""
    done = 0
    while True:
        async with runtime.transaction() as session:
            claimed = await claim(session, bound, batch)
            if claimed:
                await emit(session, runtime, claimed, today)
        done += len(claimed)
        if len(claimed) < batch:
            return done


async def scan(runtime: ServiceRuntime) -> ExpiryScanResult:
    """One scan: rounds of the four steps, each in batches, until a round finds nothing due."""
    settings = settings_of(runtime)
    async with runtime.transaction() as session:
        today = await clock_today(session, runtime)
        horizon = add_months(today, await horizon_months(session, runtime))  # the matching policy's horizon
    batch = settings.expiry_scan_batch_size
    counts = {"started": 0, "expiring": 0, "ended": 0, "fallback": 0}
    steps: list[tuple[str, Claim, Emit, dt.date]] = [
        ("expiring", repository.claim_expiring, _emit_expiring, horizon),
        ("ended", repository.claim_ended, _emit_ended, today),
        ("fallback", repository.claim_fallback, _emit_fallback, today),
        ("started", repository.claim_started, _emit_started, today),
    ]
    for _ in range(MAX_ROUNDS):
        round_total = 0
        for kind, claim, emit, bound in steps:
            done = await _step(runtime, claim, emit, bound, today, batch)
            counts[kind] += done
            round_total += done
        if round_total == 0:
            break
    async with runtime.transaction() as session:
        settled = await repository.settle_started(session, today)
    if any(counts.values()):
        log.info("expiry scan", extra={"today": str(today), **counts})
    return ExpiryScanResult(
        today=today,
        horizon_date=horizon,
        expiring_emitted=counts["expiring"],
        ended_emitted=counts["ended"],
        fallback_emitted=counts["fallback"],
        started_emitted=counts["started"],
        units_settled=settled,
    )


async def scan_loop(runtime: ServiceRuntime, stop: asyncio.Event) -> None:
    """Background task: scan every `expiry_scan_interval_s` (replicas may overlap: claims are atomic)."""
    interval = settings_of(runtime).expiry_scan_interval_s
    while not stop.is_set():
        try:
            await scan(runtime)
        except asyncio.CancelledError:
            raise
        except Exception:  # database away: try again next round
            log.exception("expiry scan failed")
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(stop.wait(), interval)
