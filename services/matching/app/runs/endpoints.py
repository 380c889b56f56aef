"""National matching runs for the marktmeester (`/api/v1/matching/runs`)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.responses import JSONResponse

from services.matching.app.runs import repository, service
from services.matching.app.runs.models import MatchingRun
from services.matching.app.runs.schemas import RunIn, RunOut
from shared.domain import Role
from shared.web.deps import Runtime, Session, WriteSession
from shared.web.idempotency import IdempotencyKey, answer
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import created_responses, not_found, problem_responses
from shared.web.mapping import to_schema

router = APIRouter(prefix="/matching/runs", tags=["matching"])
RunId = Annotated[uuid.UUID, Path(alias="id", description="The matching run's id.")]


def to_out(r: MatchingRun) -> RunOut:
    return to_schema(
        RunOut, r, cost=r.result.get("cost", {}), shortfall=r.result.get("shortfall", []),
        solver_stats=r.result.get("solver_stats", {}), plan=r.result.get("plan", []),
        replaces=r.result.get("replaces", []), kept_pending=r.result.get("kept_pending", 0),
        demand_by_status=r.result.get("demand_by_status", {}),
    )


@router.post("", status_code=201, response_model=RunOut, summary="Start a matching run", responses=created_responses(400, 401, 403, 422))
async def start_matching_run(
    principal: CurrentPrincipal,
    body: RunIn,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """Run the optimiser over all open demand and supply: a dry-run plan, or binding proposals."""
    require_role(principal, Role.marktmeester)
    record = await service.run(session, runtime, principal, body.mode, body.allow_garantiekavel_override)
    return answer(session, to_out(record), location=f"/api/v1/matching/runs/{record.id}")


@router.get("", response_model=Page[RunOut], summary="List matching runs", responses=problem_responses(400, 401, 403))
async def list_matching_runs(principal: CurrentPrincipal, session: Session, limit: LimitQuery = DEFAULT_LIMIT,
                    cursor: CursorQuery = None) -> Page[RunOut]:
    """The matching runs, oldest first, with their results."""
    require_role(principal, Role.marktmeester)
    runs, next_cursor = await repository.page(session, limit, cursor)
    return Page(data=[to_out(r) for r in runs], next_cursor=next_cursor)


@router.get("/{id}", response_model=RunOut, summary="Get a matching run", responses=problem_responses(401, 403, 404))
async def get_matching_run(principal: CurrentPrincipal, run_id: RunId, session: Session) -> RunOut:
    """One matching run with its cost, shortfall, solver statistics and plan."""
    require_role(principal, Role.marktmeester)
    record = await repository.get(session, run_id)
    if record is None:
        raise not_found("matching run", run_id)
    return to_out(record)
