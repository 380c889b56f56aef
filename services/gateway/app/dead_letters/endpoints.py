"""/dead-letters: the list over the three services, and retry/resolve forwarded to the named service."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from services.gateway.app.auth import requires
from services.gateway.app.dead_letters import service
from services.gateway.app.routes import ROUTES
from services.gateway.app.upstream import forward, upstreams_of
from shared.web.dead_letters import DeadLetter, DeadLetterPage, DeadLetterStatus, LetterId, Resolution
from shared.web.identity import Principal
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from shared.web.problems import problem_responses

router = APIRouter(tags=["dead-letters"])

ACCESS = {(row.method, row.path): row.access for row in ROUTES if row.path.startswith("/dead-letters")}
Reader = Annotated[Principal, Depends(requires(ACCESS[("GET", "/dead-letters")]))]
Retrier = Annotated[Principal, Depends(requires(ACCESS[("POST", "/dead-letters/{service}/{id}/retry")]))]
Resolver = Annotated[Principal, Depends(requires(ACCESS[("POST", "/dead-letters/{service}/{id}/resolve")]))]
ServiceName = Annotated[Literal["inventory", "sites", "matching"], Path(alias="service", description="The service holding the letter.")]


@router.get("/dead-letters", response_model=DeadLetterPage, summary="List dead letters",
            responses=problem_responses(400, 401, 403, 502, 503))
async def list_dead_letters(
    request: Request, principal: Reader,
    status: Annotated[DeadLetterStatus | None, Query(description="Only letters in this status.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> DeadLetterPage:
    """Events the services' consumers could not handle, newest first, each naming its service."""
    return await service.merged_page(upstreams_of(request), principal, status, limit, cursor)


@router.post("/dead-letters/{service}/{id}/retry", response_model=DeadLetter, summary="Retry a dead letter",
             responses=problem_responses(400, 401, 403, 404, 409, 502, 503))
async def retry_dead_letter(request: Request, principal: Retrier, service_name: ServiceName, letter_id: LetterId) -> Response:
    """Handle the stored event now through its consumer's handler and inbox (an effect that already happened
    does not happen again). Handled: `retried`; failed again: stays `open` with the new error."""
    return await forward(request, service_name, principal, path=f"/api/v1/dead-letters/{letter_id}/retry")


@router.post("/dead-letters/{service}/{id}/resolve", response_model=DeadLetter, summary="Resolve a dead letter",
             responses=problem_responses(400, 401, 403, 404, 409, 502, 503))
async def resolve_dead_letter(request: Request, principal: Resolver, service_name: ServiceName, letter_id: LetterId,
                              body: Resolution) -> Response:  # noqa: ARG001 - validated here, forwarded as received
    """Close it without handling the event, recording who and why."""
    return await forward(request, service_name, principal, path=f"/api/v1/dead-letters/{letter_id}/resolve")
