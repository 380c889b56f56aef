"""HTTP endpoints of the organisations registry (thin: rules live in service.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from services.inventory.app.deps import Session, WriteSession
from services.inventory.app.organisations import service
from services.inventory.app.organisations.schemas import ORGANISATION_ID_PATTERN, Organisation, OrganisationCreate, OrganisationUpdate
from shared.domain import Role
from shared.web.concurrency import ETAG_RESPONSE, IfMatch, etag
from shared.web.idempotency import IdempotencyKey, answer
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page, decode_cursor, encode_cursor
from shared.web.problems import created_responses, problem_responses

router = APIRouter(tags=["organisations"])

OrganisationId = Annotated[
    str,
    Path(alias="id", max_length=100, pattern=ORGANISATION_ID_PATTERN, description="The organisation's id: an investor's, or a CBS gemeentecode.",
         examples=["wc-woonbron"]),
]
EVERY_ROLE = (Role.marktmeester, Role.investor, Role.municipality)


@router.post(
    "/organisations",
    status_code=201,
    summary="Register an investor organisation",
    response_model=Organisation,
    responses=created_responses(400, 401, 403, 409),
)
async def register_organisation(
    body: OrganisationCreate,
    principal: CurrentPrincipal,
    session: WriteSession,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """The marktmeester registers a woningcorporatie, belegger or gemeente as owner; its users (whose `org`
    claim is its `id`) may act from then on. KvK number and id are unique."""
    require_role(principal, Role.marktmeester)
    row = await service.register(session, body)
    return answer(session, service.investor(row).model_dump(mode="json"), location=f"/api/v1/organisations/{row.id}")


@router.get("/organisations", response_model=Page[Organisation], summary="List organisations", responses=problem_responses(400, 401, 403))
async def list_organisations(
    principal: CurrentPrincipal,
    session: Session,
    role: Annotated[Role | None, Query(description="Only investors or only municipalities.")] = None,
    active: Annotated[bool | None, Query(description="Only active (true) or deactivated (false) organisations.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[Organisation]:
    """Investor organisations and municipalities (CBS gemeenten) by id, for anyone signed in."""
    require_role(principal, *EVERY_ROLE)
    after_id = decode_cursor(cursor, 1)[0] if cursor else None
    if role is Role.marktmeester:
        items = []
    else:
        items = await service.page(session, role=role, active=active, limit=limit, after_id=after_id)
    next_cursor = encode_cursor([items[limit - 1].id]) if len(items) > limit else None
    return Page[Organisation](data=items[:limit], next_cursor=next_cursor)


@router.get(
    "/organisations/{id}",
    response_model=Organisation,
    summary="Get an organisation",
    responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
async def get_organisation(org_id: OrganisationId, principal: CurrentPrincipal, session: Session, response: Response) -> Organisation:
    """One organisation; `ETag` is its `version`, to send back as `If-Match` when changing it."""
    require_role(principal, *EVERY_ROLE)
    item = await service.get(session, org_id)
    response.headers["ETag"] = etag(item.version)
    return item


@router.patch(
    "/organisations/{id}",
    response_model=Organisation,
    summary="Change or deactivate an investor organisation",
    responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 404, 409, 412)},
)
async def change_organisation(
    org_id: OrganisationId, body: OrganisationUpdate, principal: CurrentPrincipal, session: WriteSession,
    response: Response, if_match: IfMatch = None,
) -> Organisation:
    """The marktmeester changes an investor organisation; `active: false` deactivates it (no deletion: its
    complexes stay), and its users are refused from then on. Municipalities are read-only (409)."""
    require_role(principal, Role.marktmeester)
    row = await service.change(session, org_id, body, if_match)
    response.headers["ETag"] = etag(row.version)
    return service.investor(row)
