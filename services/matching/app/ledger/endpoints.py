"""The home ledger (`/api/v1/ledger`): every registered home in one lifecycle state, and per placement."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from services.matching.app.ledger import service
from services.matching.app.ledger.schemas import LedgerOut, LedgerPlacementOut
from shared.domain import HomeState, Role
from shared.web.deps import Session
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import problem_responses

router = APIRouter(prefix="/ledger", tags=["ledger"])
ALL_ROLES = (Role.marktmeester, Role.investor, Role.municipality)


@router.get("", response_model=LedgerOut, summary="Get the home ledger", responses=problem_responses(401, 403))
async def get_ledger(principal: CurrentPrincipal, session: Session) -> LedgerOut:
    """Homes per lifecycle state and per province, the shortfall, and `registered` = `accounted` (every home
    in exactly one state). The marktmeester sees all homes, an investor its own, a municipality those in its gemeente."""
    require_role(principal, *ALL_ROLES)
    return await service.overview(session, principal)


@router.get("/placements", response_model=Page[LedgerPlacementOut], summary="List the ledger per placement",
            responses=problem_responses(400, 401, 403))
async def list_ledger_placements(
    principal: CurrentPrincipal, session: Session,
    state: Annotated[HomeState | None, Query(description="Only placements with a home in this state.", examples=["in_storage"])] = None,
    province: Annotated[str | None, Query(pattern=r"^PV\d{2}$", description="Only homes in this province.", examples=["PV25"])] = None,
    complex_id: Annotated[uuid.UUID | None, Query(alias="complexId", description="Only homes of this complex.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT, cursor: CursorQuery = None,
) -> Page[LedgerPlacementOut]:
    """Per placement (with its complex): how many of its homes are in each state, in placement id order."""
    require_role(principal, *ALL_ROLES)
    rows, next_cursor = await service.placements(session, principal, state=state, province=province,
                                                 complex_id=complex_id, limit=limit, cursor=cursor)
    return Page(data=rows, next_cursor=next_cursor)
