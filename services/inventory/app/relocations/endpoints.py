"""HTTP endpoints of relocation plans."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Query

from services.inventory.app.deps import Session
from services.inventory.app.relocations import repository
from services.inventory.app.relocations.schemas import RelocationOut
from shared.domain import Role
from shared.web.identity import CurrentPrincipal, require_role
from shared.web.pagination import DEFAULT_LIMIT, CursorQuery, LimitQuery, Page
from shared.web.problems import not_found, problem_responses
from shared.web.mapping import to_schema

router = APIRouter(tags=["relocations"])

RelocationId = Annotated[uuid.UUID, Path(alias="id", description="The relocation plan's id.")]


@router.get("/relocations", response_model=Page[RelocationOut], summary="List relocations", responses=problem_responses(400, 401, 403))
async def list_relocations(
    principal: CurrentPrincipal,
    session: Session,
    complex_id: Annotated[uuid.UUID | None, Query(alias="complex", description="Only relocations of this complex.")] = None,
    placement_id: Annotated[uuid.UUID | None, Query(alias="placement", description="Only the relocation of this placement.")] = None,
    limit: LimitQuery = DEFAULT_LIMIT,
    cursor: CursorQuery = None,
) -> Page[RelocationOut]:
    """Relocation plans the caller may see (investors: own; municipalities: moving from or to their
    gemeente; the marktmeester: all)."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    items, next_cursor = await repository.page_visible(
        session, principal, complex_id=complex_id, placement_id=placement_id, limit=limit, cursor=cursor
    )
    return Page[RelocationOut](data=[to_schema(RelocationOut, r) for r in items], next_cursor=next_cursor)


@router.get("/relocations/{id}", response_model=RelocationOut, summary="Get a relocation", responses=problem_responses(400, 401, 403, 404))
async def get_relocation(relocation_id: RelocationId, principal: CurrentPrincipal, session: Session) -> RelocationOut:
    """One relocation plan the caller may see: which homes move where, and the move window."""
    require_role(principal, Role.investor, Role.municipality, Role.marktmeester)
    item = await repository.get_visible(session, principal, relocation_id)
    if item is None:
        raise not_found("relocation", relocation_id)
    return to_schema(RelocationOut, item)
