"""/matching/runs: the marktmeester starts national runs (dry-run or binding) and reads their results."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Marktmeester
from services.gateway.app.matching.schemas import MatchingRun, MatchingRunCreate
from services.gateway.app.routing import GatewayRoute
from shared.web.idempotency import IdempotencyKey
from services.gateway.app.upstream import forward
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["matching"], route_class=GatewayRoute)


@router.post(
    "/matching/runs",
    response_model=MatchingRun,
    status_code=201,
    summary="Start a matching run",
    responses=problem_responses(400, 409, 422, 503),
)
async def start_matching_run(
    request: Request, body: MatchingRunCreate, principal: Marktmeester, idempotency_key: IdempotencyKey = None
) -> Response:
    return await forward(request, "matching", principal)


@router.get("/matching/runs", response_model=Page[MatchingRun], summary="List matching runs", responses=problem_responses(400, 503))
async def list_matching_runs(request: Request, principal: Marktmeester, limit: LimitQuery = 50, cursor: CursorQuery = None) -> Response:
    return await forward(request, "matching", principal)


@router.get("/matching/runs/{id}", response_model=MatchingRun, summary="Get a matching run", responses=problem_responses(400, 404, 503))
async def get_matching_run(request: Request, id: uuid.UUID, principal: Marktmeester) -> Response:  # noqa: A002
    return await forward(request, "matching", principal)
