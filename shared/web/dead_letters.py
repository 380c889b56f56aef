"""`/dead-letters` of a stateful service, for the marktmeester: the same three operations in each.

The gateway lists them over the three services (each item names its service) and forwards
retry/resolve to the service named in the public path.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from shared.bus import dead_letters
from shared.domain import Role
from shared.web.deps import Runtime, Session, WriteSession
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

DeadLetterStatus = Literal["open", "retried", "resolved"]
LetterId = Annotated[int, Path(alias="id", ge=1, le=2**63 - 1, description="The dead letter's id within its service.")]


class DeadLetter(BaseModel):
    """An event a consumer could not handle: parked until retried or resolved."""

    service: str = Field(description="The service whose consumer parked it.")
    id: int = Field(description="Its id within that service.")
    consumer: str = Field(description="The durable consumer that could not handle it.")
    subject: str
    event_id: str | None = Field(description="The CloudEvent id; null when the message was not a CloudEvent.")
    error: str = Field(description="The last error handling it.")
    deliveries: int = Field(description="How often it was tried (deliveries and retries).")
    first_seen_at: dt.datetime
    last_seen_at: dt.datetime
    status: DeadLetterStatus = Field(description="open; retried (handled by a retry); resolved (closed by hand).")
    resolved_by: str | None = None
    resolved_at: dt.datetime | None = None
    note: str | None = None


class DeadLetterPage(Page[DeadLetter]):
    pass


class Resolution(BaseModel):
    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"note": "placement corrected by hand"}]})
    note: str | None = Field(default=None, max_length=2000, description="Why it is closed without handling.")


def to_out(service: str, row: Any) -> DeadLetter:
    return DeadLetter(
        service=service, id=row.id, consumer=row.consumer, subject=row.subject, event_id=row.event_id, error=row.error,
        deliveries=row.deliveries, first_seen_at=row.created_at, last_seen_at=row.last_seen_at, status=row.status,
        resolved_by=row.resolved_by, resolved_at=row.resolved_at, note=row.note,
    )


def dead_letters_router() -> APIRouter:
    router = APIRouter(tags=["dead-letters"])

    @router.get("/dead-letters", response_model=DeadLetterPage, summary="List dead letters",
                responses=problem_responses(400, 401, 403))
    async def list_dead_letters(
        principal: CurrentPrincipal, session: Session, runtime: Runtime,
        status: Annotated[DeadLetterStatus | None, Query(description="Only letters in this status.")] = None,
        limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
    ) -> DeadLetterPage:
        """Events this service's consumers could not handle, newest first."""
        require_role(principal, Role.marktmeester)
        assert runtime.tables is not None
        rows, next_cursor = await dead_letters.page(session, runtime.tables, status=status, limit=limit, cursor=cursor)
        service = runtime.settings.service_name
        return DeadLetterPage(data=[to_out(service, r) for r in rows], next_cursor=next_cursor)

    @router.post("/dead-letters/{id}/retry", response_model=DeadLetter, summary="Retry a dead letter",
                 responses=problem_responses(400, 401, 403, 404, 409))
    async def retry_dead_letter(principal: CurrentPrincipal, letter_id: LetterId, runtime: Runtime) -> DeadLetter:
        """Handle the stored event now through its consumer's handler and inbox (an effect that already
        happened does not happen again). Handled: `retried`; failed again: stays `open` with the new error."""
        require_role(principal, Role.marktmeester)
        row = await dead_letters.retry(runtime, letter_id, principal.sub)
        return to_out(runtime.settings.service_name, row)

    @router.post("/dead-letters/{id}/resolve", response_model=DeadLetter, summary="Resolve a dead letter",
                 responses=problem_responses(400, 401, 403, 404, 409))
    async def resolve_dead_letter(principal: CurrentPrincipal, letter_id: LetterId, body: Resolution,
                                  session: WriteSession, runtime: Runtime) -> DeadLetter:
        """Close it without handling the event, recording who and why."""
        require_role(principal, Role.marktmeester)
        assert runtime.tables is not None
        row = await dead_letters.resolve(session, runtime.tables, letter_id, principal.sub, body.note)
        return to_out(runtime.settings.service_name, row)

    return router
