"""/municipalities: public, no token needed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.gateway.app.auth import Caller
from services.gateway.app.municipalities import service
from services.gateway.app.municipalities.schemas import Municipality
from shared.web.pagination import CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(tags=["municipalities"])


@router.get("/municipalities", response_model=Page[Municipality], summary="List municipalities", responses=problem_responses(400))
async def list_municipalities(
    principal: Caller,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    province: Annotated[str | None, Query(description="Only this province (CBS code PVxx).", examples=["PV30"])] = None,
) -> Page[Municipality]:
    """The 342 gemeenten of the CBS classification, ordered by code."""
    data, next_cursor = service.list_municipalities(province=province, limit=limit, cursor=cursor)
    return Page[Municipality](data=data, next_cursor=next_cursor)


@router.get(
    "/municipalities/{code}", response_model=Municipality, summary="Get a municipality", responses=problem_responses(400, 404)
)
async def get_municipality(
    principal: Caller,
    code: Annotated[str, Path(pattern=r"^GM\d{4}$", description="CBS gemeentecode.", examples=["GM0772"])],
) -> Municipality:
    return service.get_municipality(code)
