"""HTTP endpoints of complexes, their units and valuation (thin: rules live in service.py)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query, Response
from fastapi.responses import JSONResponse

from services.inventory.app.clock.service import today as clock_today
from services.inventory.app.complexes import repository, service
from services.inventory.app.complexes.schemas import ComplexCreate, ComplexOut, UnitOut, Valuation
from services.inventory.app.deps import Runtime, Session, WriteSession
from shared.web.idempotency import IdempotencyKey, answer
from shared.domain import BblLevel, Role, Typology, UnitStatus
from shared.web.concurrency import ETAG_RESPONSE, content_etag
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import created_responses, not_found, problem_responses
from shared.web.mapping import to_schema

router = APIRouter(tags=["complexes"])

ComplexId = Annotated[uuid.UUID, Path(alias="id", description="The complex's id.")]



@router.post(
    "/complexes",
    status_code=201,
    summary="Register a complex",
    response_model=ComplexOut,
    responses=created_responses(400, 401, 403, 409, 422),
)
async def register_complex(
    body: ComplexCreate,
    principal: CurrentPrincipal,
    session: WriteSession,
    runtime: Runtime,
    idempotency_key: IdempotencyKey = None,  # noqa: ARG001 - documented here, honoured by WriteSession
) -> JSONResponse:
    """Register a complex with all its units (up to 500); emits `inventory.complex.registered`."""
    require_role(principal, Role.investor, Role.marktmeester)
    today = await clock_today(session, runtime)
    item = await service.register(session, runtime, principal, body, today)
    return answer(session, to_schema(ComplexOut, item), location=f"/api/v1/complexes/{item.id}")


@router.get("/complexes", response_model=Page[ComplexOut], summary="List complexes", responses=problem_responses(400, 401, 403))
async def list_complexes(
    principal: CurrentPrincipal,
    session: Session,
    investor_org: Annotated[
        str | None,
        Query(alias="investorOrg", max_length=100, description="Only this investor's complexes (marktmeester).", examples=["wc-woonbron"]),
    ] = None,
    typology: Annotated[Typology | None, Query(description="Only complexes of this typology.")] = None,
    bbl_level: Annotated[BblLevel | None, Query(alias="bblLevel", description="Only complexes built to this Bbl level.")] = None,
    rthf: Annotated[bool | None, Query(description="Only complexes with (true) or without (false) an RTHF guarantee.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[ComplexOut]:
    """Complexes the caller may see (investors: their own; municipalities: placed in their gemeente; the marktmeester: all)."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    items, next_cursor = await repository.page_visible(
        session, principal, investor_org=investor_org, typology=typology and typology.value,
        bbl_level=bbl_level and bbl_level.value, rthf=rthf, limit=limit, cursor=cursor,
    )
    return Page[ComplexOut](data=[to_schema(ComplexOut, c) for c in items], next_cursor=next_cursor)


@router.get(
    "/complexes/{id}",
    response_model=ComplexOut,
    summary="Get a complex",
    responses={200: ETAG_RESPONSE, **problem_responses(400, 401, 403, 404)},
)
async def get_complex(complex_id: ComplexId, principal: CurrentPrincipal, session: Session, response: Response) -> ComplexOut:
    """One complex the caller may see (same scope as the list), with its RTHF guarantee if any.

    `ETag`: a digest of the representation; it changes whenever the complex does."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    item = await repository.get_visible(session, principal, complex_id)
    if item is None:
        raise not_found("complex", complex_id)
    out = to_schema(ComplexOut, item)
    response.headers["ETag"] = content_etag(out)
    return out


@router.get(
    "/complexes/{id}/units",
    response_model=Page[UnitOut],
    summary="List a complex's units",
    responses=problem_responses(400, 401, 403, 404),
)
async def list_complex_units(
    complex_id: ComplexId,
    principal: CurrentPrincipal,
    session: Session,
    status: Annotated[UnitStatus | None, Query(description="Only the homes in this state.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[UnitOut]:
    """The homes of a complex in serial order, with their status."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    if await repository.get_visible(session, principal, complex_id) is None:
        raise not_found("complex", complex_id)
    units, next_cursor = await repository.page_units(
        session, complex_id, status=status and status.value, limit=limit, cursor=cursor
    )
    return Page[UnitOut](data=[to_schema(UnitOut, u) for u in units], next_cursor=next_cursor)


@router.get(
    "/complexes/{id}/valuation",
    response_model=Valuation,
    summary="Value a complex and its RTHF claim",
    responses=problem_responses(400, 401, 403, 404),
)
async def get_complex_valuation(
    complex_id: ComplexId,
    principal: CurrentPrincipal,
    session: Session,
    runtime: Runtime,
    sale_eur_per_unit: Annotated[
        float | None, Query(alias="saleEurPerUnit", ge=0, le=1_000_000, description="Expected sale price per home; default the book value.", examples=[95000])
    ] = None,
) -> Valuation:
    """Remaining technical life, book value, and the RTHF claim (60/25/15) if no follow-up plot is found."""
    require_role(principal, Role.investor, Role.marktmeester)
    item = await repository.get_visible(session, principal, complex_id)
    if item is None:
        raise not_found("complex", complex_id)
    today = await clock_today(session, runtime)
    return await service.valuation(session, item, today, sale_eur_per_unit)
