"""HTTP API of municipalities: `/municipalities`, `/municipalities/{code}` (public)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.sites.app.municipalities import service
from services.sites.app.municipalities.schemas import Municipality, MunicipalityPage
from shared.web.identity import CurrentPrincipal
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery
from shared.web.problems import problem_responses

router = APIRouter(tags=["municipalities"])


@router.get(
    "/municipalities", response_model=MunicipalityPage, summary="List municipalities", responses=problem_responses(400, 401)
)
async def list_municipalities(
    principal: CurrentPrincipal,
    province: Annotated[str | None, Query(pattern=r"^PV\d{2}$", description="Only this CBS province code.", examples=["PV30"])] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> MunicipalityPage:
    """The 342 gemeenten of the CBS 2025 classification, ordered by code."""
    data, next_cursor = service.list_page(province, limit, cursor)
    return MunicipalityPage(data=data, next_cursor=next_cursor)


@router.get(
    "/municipalities/{code}", response_model=Municipality, summary="Get a municipality", responses=problem_responses(400, 401, 404)
)
async def get_municipality(
    principal: CurrentPrincipal, code: Annotated[str, Path(pattern=r"^GM\d{4}$", description="CBS gemeentecode.", examples=["GM0772"])]
) -> Municipality:
    """One gemeente of the CBS 2025 classification, with its province."""
    return service.get(code)
