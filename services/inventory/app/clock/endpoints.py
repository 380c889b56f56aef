"""The product clock: GET for everyone with a role, PATCH for the marktmeester."""

from __future__ import annotations

import logging

from fastapi import APIRouter, BackgroundTasks

from services.inventory.app.clock import repository, service
from services.inventory.app.clock.schemas import ClockChange, ClockState
from services.inventory.app.deps import Runtime, Session, WriteSession
from services.inventory.app.expiry.service import scan
from shared.domain import Role
from shared.runtime import ServiceRuntime
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["clock"])
log = logging.getLogger(__name__)


@router.get("/clock", response_model=ClockState, summary="Get the clock", responses=problem_responses(401, 403))
async def get_clock(principal: CurrentPrincipal, session: Session, runtime: Runtime) -> ClockState:
    """The product's today: the date every service treats as today (expiry horizon, statuses, proposals, statistics)."""
    require_role(principal, Role.marktmeester, Role.investor, Role.municipality)
    today = await service.today(session, runtime)
    return ClockState(today=today, offset_days=runtime.clock.offset_days)


async def _scan_now(runtime: ServiceRuntime) -> None:
    """The expiry scan the move implies, right after the move committed (the periodic scan would come later)."""
    try:
        await scan(runtime)
    except Exception:  # the periodic scan tries again
        log.exception("expiry scan after a clock move failed")


@router.patch("/clock", response_model=ClockState, summary="Move the clock", responses=problem_responses(400, 401, 403))
async def move_clock(
    body: ClockChange, principal: CurrentPrincipal, session: WriteSession, runtime: Runtime, after: BackgroundTasks
) -> ClockState:
    """Move the product clock (persisted, shared by every replica; sites and matching follow by event).

    The new today lies between 2000-01-01 and 2100-12-31. An expiry scan runs at once for the new date.
    """
    require_role(principal, Role.marktmeester)
    today = await service.move(session, runtime, offset_days=body.offset_days, to=body.today, set_by=principal.sub)
    offset = await repository.get_offset_days(session)
    after.add_task(_scan_now, runtime)  # runs after the response, so after the commit
    return ClockState(today=today, offset_days=offset)
