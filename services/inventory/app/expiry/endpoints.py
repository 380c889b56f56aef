"""The marktmeester's "scan now" for the expiry signal."""

from __future__ import annotations



from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.inventory.app.deps import Runtime, WriteSession
from services.inventory.app.expiry import service
from services.inventory.app.expiry.schemas import ExpiryScanResult
from shared.web.idempotency import IdempotencyKey, answer
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.problems import problem_responses

router = APIRouter(tags=["clock"])  # the public document groups the scan with the clock it reads


@router.post(
    "/expiry-scans",
    status_code=200,
    response_model=ExpiryScanResult,
    summary="Run the expiry scan now",
    responses=problem_responses(401, 403, 422),
)
async def run_expiry_scan(
    principal: CurrentPrincipal,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """Run one expiry scan now and return its counts (the background scan runs on an interval too).

    Walks each placement's lifecycle forward (docs/lifecycle.md), each event once per placement:
    `inventory.placement.expiring` when its end date is within the horizon, `inventory.placement.ended`
    past its end date (without a relocation the homes go into storage until end + the storage gap),
    `inventory.placement.fallback` when that storage period passed without a plot (with the RTHF claim),
    and `inventory.placement.started` when a follow-up placement's start date came. A clock jump of
    years takes a placement through several steps in one scan, in order.
    """
    require_role(principal, Role.marktmeester)
    # The scan commits batch by batch in its own units of work; only the stored answer rides this one.
    return answer(session, await service.scan(runtime), status=200)
