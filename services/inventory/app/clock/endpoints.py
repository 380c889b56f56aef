"""The demo clock: GET for everyone with a role, PATCH for the marktmeester."""

from __future__ import annotations

from fastapi import APIRouter

from services.inventory.app.clock import repository, service
from services.inventory.app.clock.schemas import ClockChange, ClockState
from services.inventory.app.deps import Runtime, Session, WriteSession
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["clock"])


@router.get("/clock", response_model=ClockState, summary="Get the clock", responses=problem_responses(401, 403))
async def get_clock(principal: CurrentPrincipal, session: Session, runtime: Runtime) -> ClockState:
    """The date the inventory treats as today (expiry horizon, statuses, statistics)."""
    require_role(principal, Role.marktmeester, Role.investor, Role.municipality)
    today = await service.today(session, runtime)
    return ClockState(today=today, offset_days=runtime.clock.offset_days)


@router.patch("/clock", response_model=ClockState, summary="Move the clock", responses=problem_responses(400, 401, 403))
async def move_clock(body: ClockChange, principal: CurrentPrincipal, session: WriteSession, runtime: Runtime) -> ClockState:
    """Move the demo clock (persisted, shared by every replica). The next expiry scan uses the new date."""
    require_role(principal, Role.marktmeester)
    today = await service.move(session, runtime, offset_days=body.offset_days, to=body.today)
    offset = await repository.get_offset_days(session)
    return ClockState(today=today, offset_days=offset)
