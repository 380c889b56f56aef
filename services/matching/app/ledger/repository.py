"""Queries over the home ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.app.ledger.models import DEMAND_PHASES, LedgerHome
from shared.domain import HomeState, Role
from shared.web.identity import Principal
from shared.web.pagination import paginate

KNOWN_STATES = [s.value for s in HomeState]


async def homes_for_update(session: AsyncSession, *where: sa.ColumnElement[bool]) -> list[LedgerHome]:
    q = sa.select(LedgerHome).where(*where).order_by(LedgerHome.unit_id).with_for_update()
    return list((await session.scalars(q)).all())


_HOME_COLUMNS = (("unit_id", "uuid"), ("placement_id", "uuid"), ("complex_id", "uuid"), ("investor_org", "text"),
                 ("gemeente_code", "text"), ("province_code", "text"), ("phase", "text"), ("stage", "text"),
                 ("proposal_id", "uuid"), ("state", "text"), ("since", "date"), ("reason", "text"))
# one statement whatever the number of homes: the rows as parallel arrays (an executemany runs the
# INSERT once per home; a multi-row VALUES would be compiled anew for every count)
_INSERT_NEW_HOMES = sa.text(
    f"INSERT INTO home_ledger ({', '.join(c for c, _ in _HOME_COLUMNS)}) "
    f"SELECT * FROM unnest({', '.join(f'CAST(:{c} AS {t}[])' for c, t in _HOME_COLUMNS)}) "
    "ON CONFLICT (unit_id) DO NOTHING")


async def insert_new_homes(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Homes not in the ledger yet (a home already there, or twice in `rows`, keeps its first row)."""
    if rows:
        await session.execute(_INSERT_NEW_HOMES, {c: [r[c] for r in rows] for c, _ in _HOME_COLUMNS})


KEEP: Any = object()  # a column the update leaves as it is


def _column_value(column: sa.ColumnElement, value: Any, type_: sa.types.TypeEngine) -> sa.ColumnElement:
    """The column's value after the update, as an SQL expression over the row before it."""
    if value is KEEP:
        return column
    return sa.null() if value is None else sa.literal(value, type_)


async def update_homes(session: AsyncSession, where: list[sa.ColumnElement[bool]], on: dt.date, *, phase: Any = KEEP,
                       stage: Any = KEEP, proposal_id: Any = KEEP, reason: Any = KEEP, **other: Any) -> None:
    """One set-based UPDATE: the given columns, the state derived from the new phase and stage (as
    `models.state_of`), and `since` = `on` where the state changes."""
    new_phase = _column_value(LedgerHome.phase, phase, sa.String())
    new_stage = _column_value(LedgerHome.stage, stage, sa.String())
    new_state = sa.case((sa.and_(new_stage.is_not(None), new_phase.in_(DEMAND_PHASES)), new_stage), else_=new_phase)
    values: dict[str, Any] = {**other, "state": new_state,
                              "since": sa.case((new_state != LedgerHome.state, sa.literal(on, sa.Date())), else_=LedgerHome.since)}
    for name, value in (("phase", phase), ("stage", stage), ("proposal_id", proposal_id), ("reason", reason)):
        if value is not KEEP:
            values[name] = value
    await session.execute(sa.update(LedgerHome).where(*where).values(values).execution_options(synchronize_session=False))


_PROPOSALS_CREATED = sa.text(f"""
UPDATE home_ledger AS h SET
    stage = CASE WHEN p.covered THEN 'proposed' ELSE h.stage END,
    proposal_id = CASE WHEN p.covered THEN p.proposal_id ELSE h.proposal_id END,
    reason = CASE WHEN p.covered THEN NULL ELSE 'remainder' END,
    state = CASE WHEN p.covered THEN 'proposed' ELSE coalesce(h.stage, h.phase) END,
    since = CASE WHEN (CASE WHEN p.covered THEN 'proposed' ELSE coalesce(h.stage, h.phase) END) <> h.state
                 THEN CAST(:on AS date) ELSE h.since END
FROM (
    SELECT f.unit_id, v.proposal_id, f.n <= v.housed AS covered
    FROM unnest(CAST(:placements AS uuid[]), CAST(:proposals AS uuid[]), CAST(:housed AS int[]))
         AS v(placement_id, proposal_id, housed)
    CROSS JOIN LATERAL (
        SELECT f.unit_id, row_number() OVER (ORDER BY f.unit_id) AS n FROM home_ledger AS f
        -- each placement's homes by its index only: "IS TRUE" keeps the planner off the proposal_id index,
        -- which it picks when the statistics predate a burst of new (unproposed) homes and then reads
        -- every unproposed home of the country per placement (~0.1-0.4 s per chunk of proposals)
        WHERE f.placement_id = v.placement_id AND (f.proposal_id IS NULL) IS TRUE
          AND f.phase IN ({", ".join(repr(p) for p in DEMAND_PHASES)})
    ) AS f
) AS p
WHERE h.unit_id = p.unit_id
""")


async def proposals_created(session: AsyncSession, created: list[tuple[uuid.UUID, uuid.UUID, int]], on: dt.date) -> None:
    """Proposals (proposal, placement, homes housed), at most one per placement, in one statement: each
    covers the first `housed` free homes of its placement by unit id (stage proposed); the placement's
    other free homes are its remainder (restvraag). The same rule as `update_homes` for the state: in a
    demand phase, the stage shows through."""
    if not created:
        return
    assert len({placement for _, placement, _ in created}) == len(created), "one proposal per placement"
    await session.execute(_PROPOSALS_CREATED, {
        "placements": [placement for _, placement, _ in created], "proposals": [proposal for proposal, _, _ in created],
        "housed": [housed for _, _, housed in created], "on": on})


def forget(session: AsyncSession, homes: list[LedgerHome]) -> None:
    """Out of the session's identity map: later set-based updates must not meet stale copies."""
    for home in homes:
        session.expunge(home)


def visible(principal: Principal) -> sa.ColumnElement[bool]:
    """Marktmeester: every home; investor: its own org's; municipality: the homes in its gemeente."""
    if principal.role is Role.marktmeester:
        return sa.true()
    if principal.role is Role.investor:
        return LedgerHome.investor_org == principal.org
    if principal.role is Role.municipality:
        return LedgerHome.gemeente_code == principal.org
    return sa.false()


async def registered_and_accounted(session: AsyncSession, principal: Principal) -> tuple[int, int]:
    """The sum invariant in one query: homes registered, and homes in exactly one known state."""
    row = (await session.execute(
        sa.select(sa.func.count(), sa.func.count().filter(LedgerHome.state.in_(KNOWN_STATES))).where(visible(principal))
    )).one()
    return int(row[0]), int(row[1])


async def counts_by_province_state(session: AsyncSession, principal: Principal) -> list[tuple[str | None, str, int]]:
    q = (sa.select(LedgerHome.province_code, LedgerHome.state, sa.func.count())
         .where(visible(principal)).group_by(LedgerHome.province_code, LedgerHome.state))
    return [(p, s, int(n)) for p, s, n in (await session.execute(q)).all()]


async def page_placements(
    session: AsyncSession, principal: Principal, *, state: str | None, province: str | None,
    complex_id: uuid.UUID | None, limit: int, cursor: str | None,
) -> tuple[list[sa.Row], str | None]:
    """Per placement (and its complex): the number of homes in each state. `state`: placements with a home in it."""
    per_state = [sa.func.count().filter(LedgerHome.state == s).label(s) for s in KNOWN_STATES]
    q = (sa.select(LedgerHome.placement_id, sa.func.min(LedgerHome.complex_id.cast(sa.String)).label("complex_id"),
                   sa.func.min(LedgerHome.investor_org).label("investor_org"),
                   sa.func.min(LedgerHome.gemeente_code).label("gemeente_code"),
                   sa.func.min(LedgerHome.province_code).label("province_code"),
                   sa.func.count().label("homes"), *per_state)
         .where(visible(principal), LedgerHome.placement_id.is_not(None)).group_by(LedgerHome.placement_id))
    if province is not None:
        q = q.where(LedgerHome.province_code == province)
    if complex_id is not None:
        q = q.where(LedgerHome.complex_id == complex_id)
    if state is not None:
        q = q.having(sa.func.count().filter(LedgerHome.state == state) > 0)
    return await paginate(session, q, [LedgerHome.placement_id], limit, cursor)
