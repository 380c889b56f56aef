"""Following the one product clock: the table, load/store and the fold every follower wires in.

One service owns the product's "today" (it persists the offset and publishes a ClockSet with a
version that grows by one on every change). Each follower keeps the last offset it applied in
its own database (one row), so it survives restarts, and applies a ClockSet only when its
version is newer: a redelivered or late old event never moves the clock back.

A follower wires it in three lines: `clock_table = define_clock_table(Base.metadata)` next to
its bus tables, `startup=[restore_clock(clock_table)]` on its runtime, and a handler that calls
`follow(session, runtime, clock_table, data)`. Its migration calls `create_clock_table()`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.models import ClockSet

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

# The product clock stays within these dates (the same bounds the owner's API enforces):
# month arithmetic on them is far from date.max, and no demo needs more.
EARLIEST_TODAY = dt.date(2000, 1, 1)
LATEST_TODAY = dt.date(2100, 12, 31)

TABLE_NAME = "product_clock"


def within_range(base: dt.date, offset_days: int) -> bool:
    """Whether `base` moved by `offset_days` is a today the product can reason about."""
    return (EARLIEST_TODAY - base).days <= offset_days <= (LATEST_TODAY - base).days


def define_clock_table(metadata: sa.MetaData) -> sa.Table:
    """One row (id 1): the offset this service follows and the version of the ClockSet it came from."""
    return sa.Table(
        TABLE_NAME,
        metadata,
        sa.Column("id", sa.SmallInteger, primary_key=True, default=1),
        sa.Column("offset_days", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.Column("today", sa.Date, nullable=False),  # the owner's today when it was set (for reading only)
        # record time (real): when this service applied it
        sa.Column("applied_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("id = 1", name="single_row"),
    )


def create_clock_table() -> None:
    """Migration step of a follower (mirrors define_clock_table)."""
    from alembic import op

    op.create_table(
        TABLE_NAME,
        sa.Column("id", sa.SmallInteger(), nullable=False),
        sa.Column("offset_days", sa.Integer(), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("today", sa.Date(), nullable=False),
        sa.Column("applied_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("id = 1", name=op.f(f"ck_{TABLE_NAME}_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f(f"pk_{TABLE_NAME}")),
    )


def drop_clock_table() -> None:
    from alembic import op

    op.drop_table(TABLE_NAME)


async def load(session: AsyncSession, table: sa.Table) -> tuple[int, int] | None:
    """(offset_days, version) as last applied, or None when the clock never moved."""
    row = (await session.execute(sa.select(table.c.offset_days, table.c.version).where(table.c.id == 1))).first()
    return (int(row[0]), int(row[1])) if row is not None else None


async def store(session: AsyncSession, table: sa.Table, data: ClockSet) -> bool:
    """The fold: keep `data` only when it is newer than what is stored; True when it was applied.

    One statement, so two consumers racing on the same row cannot let the older one win.
    """
    version = data.version or 0
    values = {"id": 1, "offset_days": data.offset_days, "version": version, "today": data.today}
    statement = (
        pg_insert(table)
        .values(**values)
        .on_conflict_do_update(
            index_elements=[table.c.id],
            set_={"offset_days": data.offset_days, "version": version, "today": data.today, "applied_at": sa.func.now()},
            where=table.c.version < version,
        )
        .returning(table.c.offset_days)
    )
    return (await session.execute(statement)).first() is not None


async def follow(session: AsyncSession, runtime: ServiceRuntime, table: sa.Table, data: ClockSet) -> bool:
    """Apply a ClockSet (in the consumer's transaction) and move the runtime's clock; True when it moved.

    An offset that would put today outside the product's range is ignored (the owner never sends one;
    applied, it would break every date computation of this service).
    """
    if not within_range(runtime.clock.base_date(), data.offset_days):
        return False
    if not await store(session, table, data):
        return False
    runtime.clock.offset_days = data.offset_days
    return True


async def refresh(session: AsyncSession, runtime: ServiceRuntime, table: sa.Table) -> int:
    """Take over the persisted offset (at start, and for replicas whose consumer did not apply it)."""
    stored = await load(session, table)
    runtime.clock.offset_days = stored[0] if stored is not None else 0
    return runtime.clock.offset_days


async def today(session: AsyncSession, runtime: ServiceRuntime, table: sa.Table) -> dt.date:
    """The product's today as this service follows it (refreshed: any replica's consumer may have applied a move)."""
    await refresh(session, runtime, table)
    return runtime.clock.today()


def restore_clock(table: sa.Table) -> Callable[[ServiceRuntime], Awaitable[None]]:
    """A runtime start step: the clock continues where it was before the restart."""

    async def restore(runtime: ServiceRuntime) -> None:
        assert runtime.db is not None
        async with runtime.db.sessions() as session:
            await refresh(session, runtime, table)

    return restore
