"""Dead letters the marktmeester can act on: list them, retry one through its handler, or resolve it.

A retry re-handles the stored event through the same handler and inbox as the live
consumer (`Consumer.apply`), so an event whose effect already happened is a duplicate
and has no second effect. Success marks the letter `retried`; a failure leaves it `open`
with the new error, one more delivery and a new `last_seen_at`. `resolve` only records
who closed it and why (nothing is handled).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.consumer import Consumer, PoisonMessage, durable_name, parse
from shared.bus.tables import BusTables
from shared.clock import utcnow
from shared.web.pagination import decode_cursor, encode_cursor
from shared.web.problems import InvalidInput, conflict, not_found

if TYPE_CHECKING:
    from shared.runtime import ServiceRuntime

STATUSES = ("open", "retried", "resolved")


def cursor_after(letter_id: int) -> str:
    """The list cursor that continues after (older than) this letter: the gateway merges pages with it."""
    return encode_cursor([letter_id])


def _cursor_id(cursor: str) -> int:
    (value,) = decode_cursor(cursor, 1)
    try:
        return int(value)
    except ValueError:
        raise InvalidInput([("cursor", "not a cursor this API issued")], where="query") from None


async def page(
    session: AsyncSession, tables: BusTables, *, status: str | None, limit: int, cursor: str | None
) -> tuple[list[Any], str | None]:
    """Newest first (by id: the order they were parked in)."""
    t = tables.dead_letters
    query = sa.select(t)
    if status is not None:
        query = query.where(t.c.status == status)
    if cursor:
        query = query.where(t.c.id < _cursor_id(cursor))
    rows = (await session.execute(query.order_by(t.c.id.desc()).limit(limit + 1))).all()
    if len(rows) > limit:
        return rows[:limit], cursor_after(rows[limit - 1].id)
    return rows, None


async def get(session: AsyncSession, tables: BusTables, letter_id: int, *, lock: bool = False) -> Any:
    query = sa.select(tables.dead_letters).where(tables.dead_letters.c.id == letter_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).first()
    if row is None:
        raise not_found("dead letter", letter_id)
    return row


async def count_open(session: AsyncSession, tables: BusTables) -> int:
    t = tables.dead_letters
    return int(await session.scalar(sa.select(sa.func.count()).select_from(t).where(t.c.status == "open")) or 0)


def _consumer_of(runtime: "ServiceRuntime", name: str) -> Consumer | None:
    """The handlers of the durable consumer that parked the letter (built without NATS: only `apply` is used)."""
    for subject_filter, handlers in runtime.handlers.items():
        if durable_name(runtime.settings.service_name, subject_filter) == name:
            assert runtime.db is not None and runtime.tables is not None
            return Consumer(runtime.db, runtime.tables, None, runtime.settings, subject_filter, handlers,  # type: ignore[arg-type]
                            after_commit=runtime.nudge)
    return None


async def retry(runtime: "ServiceRuntime", letter_id: int, by: str) -> Any:
    """Handle the stored event now. Returns the letter as it is afterwards."""
    assert runtime.db is not None and runtime.tables is not None
    tables = runtime.tables
    async with runtime.db.sessions() as session:
        letter = await get(session, tables, letter_id)
    if letter.status != "open":
        raise conflict(f"The dead letter is {letter.status}; only open dead letters can be retried.")
    error: str | None = None
    outcome = ""
    consumer = _consumer_of(runtime, letter.consumer)
    if consumer is None:
        error = f"no consumer {letter.consumer} in this service any more"
    else:
        try:
            event, data = parse(letter.payload.encode("utf-8"))
            outcome = await consumer.apply(event, data)
        except PoisonMessage as exc:
            error = str(exc)
        except Exception as exc:  # the handler's effect rolled back with its inbox row
            error = repr(exc)
    now = utcnow()
    t = tables.dead_letters
    async with runtime.db.transaction() as session:
        if error is None:
            values: dict[str, Any] = {"status": "retried", "resolved_by": by, "resolved_at": now,
                                      "note": f"retried: {outcome}", "last_seen_at": now}
        else:
            values = {"error": error[:4000], "deliveries": t.c.deliveries + 1, "last_seen_at": now}
        # only an open letter changes: a concurrent resolve or retry has the last word
        await session.execute(sa.update(t).where(t.c.id == letter_id, t.c.status == "open").values(**values))
        return await get(session, tables, letter_id)


async def resolve(session: AsyncSession, tables: BusTables, letter_id: int, by: str, note: str | None) -> Any:
    """Close the letter without handling it (the marktmeester fixed the matter by other means)."""
    letter = await get(session, tables, letter_id, lock=True)
    if letter.status == "resolved":
        return letter  # resolving twice changes nothing
    if letter.status != "open":
        raise conflict(f"The dead letter is {letter.status}; only open dead letters can be resolved.")
    t = tables.dead_letters
    now: dt.datetime = utcnow()
    await session.execute(
        sa.update(t).where(t.c.id == letter_id).values(status="resolved", resolved_by=by, resolved_at=now, note=note)
    )
    return await get(session, tables, letter_id)
