"""The expiry signal: a periodic scan that emits placement.expiring and placement.ended once each."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.complexes import repository as complexes_repo
from services.inventory.app.complexes.service import spec
from services.inventory.app.deps import settings_of
from services.inventory.app.expiry import repository
from services.inventory.app.expiry.schemas import ExpiryScanResult
from services.inventory.app.placements import repository as placements
from services.inventory.app.placements.models import Placement
from services.inventory.app.policy.service import horizon_months
from shared.clock import add_months
from shared.domain import PermitInstrument, UnitStatus
from shared.events.models import PlacementEnded, PlacementExpiring
from shared.runtime import ServiceRuntime

log = logging.getLogger(__name__)


async def _emit_expiring(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today) -> None:  # noqa: ANN001
    complexes = await complexes_repo.by_ids(session, {p.complex_id for p in claimed})
    unit_ids = await placements.unit_ids_by_placement(session, [p.id for p in claimed])
    for p in claimed:
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


async def _emit_ended(session: AsyncSession, runtime: ServiceRuntime, claimed: list[Placement], today) -> None:  # noqa: ANN001
    for p in claimed:
        await runtime.emit(
            session,
            "inventory.placement.ended",
            p.id,
            PlacementEnded(
                placement_id=p.id,
                complex_id=p.complex_id,
                investor_org=p.investor_org,
                end_date=p.end_date,
                relocated=p.relocation_id is not None,
                unit_count=p.unit_count,
            ),
        )
    relocated = [p.id for p in claimed if p.relocation_id is not None]
    # Homes with a follow-up plot are on the move; the others go into storage (or are sold: RTHF).
    await repository.release_units(session, relocated, UnitStatus.in_transit.value, today)
    await repository.release_units(session, [p.id for p in claimed if p.relocation_id is None], UnitStatus.stored.value, today)


async def scan(runtime: ServiceRuntime) -> ExpiryScanResult:
    """One scan, in batches; each batch claims and writes its events in one transaction."""
    settings = settings_of(runtime)
    async with runtime.transaction() as session:
        today = await clock_today(session, runtime)
        horizon = add_months(today, await horizon_months(session, runtime))  # the matching policy's horizon
    batch = settings.expiry_scan_batch_size
    counts = {"expiring": 0, "ended": 0}
    for kind, claim, emit, bound in (
        ("expiring", repository.claim_expiring, _emit_expiring, horizon),
        ("ended", repository.claim_ended, _emit_ended, today),
    ):
        while True:
            async with runtime.transaction() as session:
                claimed = await claim(session, bound, batch)
                if claimed:
                    await emit(session, runtime, claimed, today)
            counts[kind] += len(claimed)
            if len(claimed) < batch:
                break
    async with runtime.transaction() as session:
        settled = await repository.settle_started(session, today)
    if counts["expiring"] or counts["ended"]:
        log.info("expiry scan", extra={"today": str(today), **counts})
    return ExpiryScanResult(
        today=today, horizon_date=horizon, expiring_emitted=counts["expiring"], ended_emitted=counts["ended"], units_settled=settled
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
