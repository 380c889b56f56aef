"""The matching policy (`/api/v1/matching/policy`): read by every role, changed by the marktmeester."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response

from services.matching.app.policy import repository, service
from services.matching.app.policy.models import PolicyVersion
from services.matching.app.policy.schemas import PolicyChange, PolicyOut
from shared.domain import Role
from shared.web.concurrency import ETAG_RESPONSE, IfMatch, etag
from shared.web.deps import Runtime, Session, WriteSession
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.mapping import to_schema
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import ProblemError, not_found, problem_responses

router = APIRouter(prefix="/matching/policy", tags=["matching"])
VersionNo = Annotated[int, Path(alias="version", ge=1, le=2_147_483_647, description="The policy version.")]
ALL_ROLES = (Role.marktmeester, Role.investor, Role.municipality)


def to_out(row: PolicyVersion) -> PolicyOut:
    return to_schema(PolicyOut, row)


@router.get("", response_model=PolicyOut, summary="Get the matching policy",
            responses={200: ETAG_RESPONSE, **problem_responses(401, 403)})
async def get_matching_policy(principal: CurrentPrincipal, session: Session, runtime: Runtime, response: Response) -> PolicyOut:
    """The version in force: every rule parameter and objective weight with its value (meaning, bounds and
    source of each in this schema). `ETag` is the version: send it as `If-Match` to change the policy."""
    require_role(principal, *ALL_ROLES)
    row = await service.current_row(session, runtime)
    response.headers["ETag"] = etag(row.version)
    return to_out(row)


@router.put("", response_model=PolicyOut, summary="Set the matching policy",
            responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 412, 428)})
async def set_matching_policy(body: PolicyChange, principal: CurrentPrincipal, session: WriteSession, runtime: Runtime,
                              response: Response, if_match: IfMatch = None) -> PolicyOut:
    """Replace the whole policy: stores version n+1 (who and when), used by the next proposal, and publishes
    `matching.policy.changed`. `If-Match` must name the version in force (412 when it changed since, 428 without)."""
    require_role(principal, Role.marktmeester)
    if if_match is None:
        raise ProblemError(428, "Precondition required", "Send If-Match with the ETag of the policy version you read (GET /matching/policy).")
    row = await service.change(session, runtime, principal, body, if_match)
    response.headers["ETag"] = etag(row.version)
    return to_out(row)


@router.get("/versions", response_model=Page[PolicyOut], summary="List the matching policy versions",
            responses=problem_responses(400, 401, 403))
async def list_matching_policy_versions(principal: CurrentPrincipal, session: Session, limit: LimitQuery = DEFAULT_LIMIT,
                                        cursor: CursorQuery = None) -> Page[PolicyOut]:
    """Every version, oldest first: who set what, when and why."""
    require_role(principal, *ALL_ROLES)
    rows, next_cursor = await repository.page(session, limit, cursor)
    return Page(data=[to_out(r) for r in rows], next_cursor=next_cursor)


@router.get("/versions/{version}", response_model=PolicyOut, summary="Get a matching policy version",
            responses=problem_responses(400, 401, 403, 404))
async def get_matching_policy_version(principal: CurrentPrincipal, version: VersionNo, session: Session) -> PolicyOut:
    """One version of the policy."""
    require_role(principal, *ALL_ROLES)
    row = await repository.get(session, version)
    if row is None:
        raise not_found("matching policy version", version)
    return to_out(row)
