"""The home ledger as the API answers it: counts per state and province that add up to the homes registered."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.ledger import repository as repo
from services.matching.app.ledger.schemas import LedgerOut, LedgerPlacementOut, ProvinceCounts
from shared.domain import END_STATES, SHORTFALL_STATES, HomeState
from shared.web.identity import Principal

_SHORT = {s.value for s in SHORTFALL_STATES}
_END = {s.value for s in END_STATES}


def _zero() -> dict[HomeState, int]:
    return {s: 0 for s in HomeState}


async def overview(session: AsyncSession, principal: Principal) -> LedgerOut:
    registered, accounted = await repo.registered_and_accounted(session, principal)
    by_state, by_province = _zero(), defaultdict(_zero)
    for province, state, n in await repo.counts_by_province_state(session, principal):
        by_state[HomeState(state)] += n
        by_province[province or "unknown"][HomeState(state)] += n
    return LedgerOut(
        registered=registered, accounted=accounted,
        shortfall=sum(n for s, n in by_state.items() if s.value in _SHORT),
        in_books=sum(n for s, n in by_state.items() if s.value not in _END),
        left_books=sum(n for s, n in by_state.items() if s.value in _END),
        by_state=by_state,
        by_province=[
            ProvinceCounts(province_code=p, homes=sum(c.values()), shortfall=sum(n for s, n in c.items() if s.value in _SHORT),
                           by_state=c)
            for p, c in sorted(by_province.items())
        ],
    )


async def placements(session: AsyncSession, principal: Principal, *, state: HomeState | None, province: str | None,
                     complex_id: uuid.UUID | None, limit: int, cursor: str | None) -> tuple[list[LedgerPlacementOut], str | None]:
    rows, next_cursor = await repo.page_placements(
        session, principal, state=state.value if state else None, province=province, complex_id=complex_id,
        limit=limit, cursor=cursor)
    out = [
        LedgerPlacementOut(
            placement_id=r.placement_id, complex_id=uuid.UUID(r.complex_id), investor_org=r.investor_org,
            gemeente_code=r.gemeente_code, province_code=r.province_code, homes=r.homes,
            by_state={s: int(r._mapping[s.value]) for s in HomeState},
        )
        for r in rows
    ]
    return out, next_cursor
