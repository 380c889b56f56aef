"""National matching runs for the marktmeester (`/api/v1/matching/runs`)."""

from __future__ import annotations

import uuid
import sqlalchemy as sa
from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.matching.app.runs import service
from services.matching.app.runs.models import MatchingRun
from services.matching.app.runs.schemas import RunIn, RunOut
from shared.domain import Role
from shared.web import idempotency
from shared.web.deps import Runtime, Session
from shared.web.idempotency import IdempotencyKey
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, paginate
from shared.web.problems import not_found, problem_responses

router = APIRouter(prefix="/matching/runs", tags=["matching-runs"])


def to_out(r: MatchingRun) -> RunOut:
    return RunOut(
        id=r.id, mode=r.mode, allow_garantiekavel_override=r.allow_garantiekavel_override, created_at=r.created_at,
        wall_time_s=r.wall_time_s, demand_units=r.demand_units, housed_units=r.housed_units,
        shortfall_units=r.shortfall_units, proposals_created=r.proposals_created, cost=r.result.get("cost", {}),
        shortfall=r.result.get("shortfall", []), solver_stats=r.result.get("solver_stats", {}), plan=r.result.get("plan", []),
    )


@router.post("", status_code=201, response_model=RunOut, responses=problem_responses(400, 401, 403, 422))
async def start_run(
    principal: CurrentPrincipal, body: RunIn, runtime: Runtime, idempotency_key: IdempotencyKey = None
) -> JSONResponse:
    """Run the optimiser over all open demand and supply: a dry-run plan, or binding proposals."""
    require_role(principal, Role.marktmeester)

    async def create(session):  # noqa: ANN001, ANN202
        record = await service.run(session, runtime, principal, body.mode, body.allow_garantiekavel_override)
        return 201, to_out(record), {"Location": f"/api/v1/matching/runs/{record.id}"}

    return await idempotency.create_once(
        runtime, principal, "POST /matching/runs", idempotency_key, body.model_dump(mode="json"), create,
        replay_headers=lambda stored: {"Location": f"/api/v1/matching/runs/{stored['id']}"},
    )


@router.get("", response_model=Page[RunOut], responses=problem_responses(400, 401, 403))
async def list_runs(principal: CurrentPrincipal, session: Session, limit: LimitQuery = DEFAULT_LIMIT,
                    cursor: CursorQuery = None) -> Page[RunOut]:
    require_role(principal, Role.marktmeester)
    rows, next_cursor = await paginate(session, sa.select(MatchingRun), [MatchingRun.created_at, MatchingRun.id], limit, cursor)
    return Page(data=[to_out(r[0]) for r in rows], next_cursor=next_cursor)


@router.get("/{run_id}", response_model=RunOut, responses=problem_responses(401, 403, 404))
async def get_run(principal: CurrentPrincipal, run_id: uuid.UUID, session: Session) -> RunOut:
    require_role(principal, Role.marktmeester)
    record = await session.get(MatchingRun, run_id)
    if record is None:
        raise not_found("matching run", run_id)
    return to_out(record)
