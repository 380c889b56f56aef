"""/complexes: investors register complexes; everyone with a role reads what they may see."""

from __future__ import annotations

import uuid

from fastapi import APIRouter, Request, Response

from services.gateway.app.auth import Authenticated, ComplexOwner
from services.gateway.app.complexes.schemas import (
    BblLevelQuery,
    Complex,
    ComplexCreate,
    InvestorOrgQuery,
    RthfQuery,
    SaleEurPerUnitQuery,
    TypologyQuery,
    Unit,
    UnitStatusQuery,
    Valuation,
)
from services.gateway.app.routing import GatewayRoute
from shared.web.idempotency import IdempotencyKey
from services.gateway.app.upstream import forward
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["complexes"], route_class=GatewayRoute)


@router.get("/complexes", response_model=Page[Complex], summary="List complexes", responses=problem_responses(400, 503))
async def list_complexes(
    request: Request,
    principal: Authenticated,
    investor_org: InvestorOrgQuery = None,
    typology: TypologyQuery = None,
    bbl_level: BblLevelQuery = None,
    rthf: RthfQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """Investors see their own organisation's complexes, municipalities those placed with them."""
    return await forward(request, "inventory", principal)


@router.post(
    "/complexes",
    response_model=Complex,
    status_code=201,
    summary="Register a complex",
    responses=problem_responses(400, 409, 422, 503),
)
async def register_complex(
    request: Request, body: ComplexCreate, principal: ComplexOwner, idempotency_key: IdempotencyKey = None
) -> Response:
    return await forward(request, "inventory", principal)


@router.get("/complexes/{id}", response_model=Complex, summary="Get a complex", responses=problem_responses(400, 404, 503))
async def get_complex(request: Request, id: uuid.UUID, principal: Authenticated) -> Response:  # noqa: A002
    return await forward(request, "inventory", principal)


@router.get(
    "/complexes/{id}/units", response_model=Page[Unit], summary="List a complex's units", responses=problem_responses(400, 404, 503)
)
async def list_complex_units(
    request: Request,
    id: uuid.UUID,  # noqa: A002
    principal: Authenticated,
    status: UnitStatusQuery = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """The homes of a complex in serial order, with their status."""
    return await forward(request, "inventory", principal)


@router.get(
    "/complexes/{id}/valuation",
    response_model=Valuation,
    summary="Value a complex and its RTHF claim",
    responses=problem_responses(400, 404, 503),
)
async def get_complex_valuation(
    request: Request, id: uuid.UUID, principal: ComplexOwner, sale_eur_per_unit: SaleEurPerUnitQuery = None  # noqa: A002
) -> Response:
    """The sale value and, when the sale falls short of the garantiebedrag, the 60/25/15 RTHF split."""
    return await forward(request, "inventory", principal)
