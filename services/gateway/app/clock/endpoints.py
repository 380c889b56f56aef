"""/clock: the date the system treats as today (demos move it forward by years)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Authenticated, Marktmeester
from services.gateway.app.clock.schemas import ClockChange, ClockState
from services.gateway.app.routing import GatewayRoute
from services.inventory.app.expiry.schemas import ExpiryScanResult
from shared.web.idempotency import IdempotencyKey
from services.gateway.app.upstream import forward
from shared.web.problems import problem_responses

router = APIRouter(tags=["clock"], route_class=GatewayRoute)


@router.get("/clock", response_model=ClockState, summary="Get the clock", responses=problem_responses(503))
async def get_clock(request: Request, principal: Authenticated) -> Response:
    return await forward(request, "inventory", principal)


@router.patch("/clock", response_model=ClockState, summary="Move the clock", responses=problem_responses(400, 503))
async def move_clock(request: Request, body: ClockChange, principal: Marktmeester) -> Response:
    """Persisted and shared by every replica; the next expiry scan uses the new date."""
    return await forward(request, "inventory", principal)


@router.post(
    "/expiry-scans", response_model=ExpiryScanResult, summary="Run the expiry scan now", responses=problem_responses(400, 422, 503)
)
async def run_expiry_scan(request: Request, principal: Marktmeester, idempotency_key: IdempotencyKey = None) -> Response:
    """Emit the expiry signals due at the clock's date now, instead of waiting for the periodic scan."""
    return await forward(request, "inventory", principal)
