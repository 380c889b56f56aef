"""Transactional outbox: record an event in the caller's transaction; a relay publishes it."""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import uuid
from typing import Any

import nats.errors
import orjson
import sqlalchemy as sa
from nats.js import JetStreamContext
from opentelemetry.trace import SpanKind
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.tables import BusTables
from shared.config import ServiceSettings
from shared.db import Database
from shared.events.envelope import CloudEvent, nats_headers
from shared.events.models import EVENT_TYPES, EventData
from shared.logs import correlation_id, valid_correlation_id
from shared.metrics import OUTBOX_PENDING, OUTBOX_PUBLISHED, OUTBOX_RELAY_STALLS, OUTBOX_REPLAYED
from shared.tracing import current_traceparent, span

log = logging.getLogger(__name__)

# What one event may weigh on the wire: well under NATS's max_payload (1 MiB by default), so an
# event that was stored can always be published. The request that would make a bigger one is
# refused (nothing stored) instead of holding every later event of the service behind it.
MAX_EVENT_BYTES = 256 * 1024


class EventTooLarge(ValueError):
    """The request would record an event above MAX_EVENT_BYTES; answered as a 413 problem."""


def build_event(service: str, event_type: str, aggregate_id: Any, data: EventData) -> CloudEvent:
    model = EVENT_TYPES[event_type]
    if not isinstance(data, model):
        raise TypeError(f"{event_type} carries {model.__name__}, not {type(data).__name__}")
    traceparent = current_traceparent()  # CloudEvents distributed-tracing extension, only when tracing
    return CloudEvent(
        source=f"/herplaatsing/{service}",
        type=event_type,
        subject=str(aggregate_id),
        correlationid=valid_correlation_id(correlation_id.get()) or str(uuid.uuid4()),
        data=data.model_dump(mode="json"),
        **({"traceparent": traceparent} if traceparent else {}),
    )


def _outbox_row(service: str, event_type: str, aggregate_id: Any, data: EventData) -> tuple[CloudEvent, dict[str, Any]]:
    event = build_event(service, event_type, aggregate_id, data)
    payload = event.model_dump(mode="json")
    size = len(encode(payload))
    if size > MAX_EVENT_BYTES:
        raise EventTooLarge(f"The {event_type} event this request makes would be {size} bytes (at most {MAX_EVENT_BYTES}).")
    return event, {"event_id": event.id, "event_type": event.type, "aggregate_id": event.subject, "payload": payload}


async def record_event(
    session: AsyncSession, tables: BusTables, service: str, event_type: str, aggregate_id: Any, data: EventData
) -> CloudEvent:
    """Write the event into the outbox inside the caller's (uncommitted) transaction."""
    event, row = _outbox_row(service, event_type, aggregate_id, data)
    await session.execute(sa.insert(tables.outbox).values(**row))
    return event


class OutboxBatch:
    """Events of one transaction written to the outbox in one statement, in the order added
    (a job that emits hundreds of events saves a round trip per event)."""

    def __init__(self, tables: BusTables, service: str) -> None:
        self.tables, self.service = tables, service
        self.rows: list[dict[str, Any]] = []

    def add(self, event_type: str, aggregate_id: Any, data: EventData) -> CloudEvent:
        event, row = _outbox_row(self.service, event_type, aggregate_id, data)
        self.rows.append(row)
        return event

    async def write(self, session: AsyncSession) -> None:
        if self.rows:
            await session.execute(sa.insert(self.tables.outbox), self.rows)
            self.rows = []


def encode(payload: dict[str, Any]) -> bytes:
    return orjson.dumps(payload)


def _trace_parent(payload: dict[str, Any]) -> dict[str, str] | None:
    """The trace an event was recorded in (its CloudEvents `traceparent`), to continue it."""
    traceparent = payload.get("traceparent")
    return {"traceparent": traceparent} if traceparent else None


# Stable lock ids per service: only one relay per service publishes at a time.
def _relay_lock_id(service: str) -> int:
    return int.from_bytes(uuid.uuid5(uuid.NAMESPACE_DNS, f"relay.{service}").bytes[:8], "big", signed=True)


class OutboxRelay:
    """Publishes outbox rows in order with Nats-Msg-Id = event id; retries forever.

    Leadership: a session-level advisory lock held on a dedicated autocommit connection
    (no transaction stays open, so vacuum is never held back), so with
    several replicas exactly one relays and the others stand by. Published rows stay
    for `outbox_retention_days` and can be re-published (replay) when the broker lost them.
    """

    def __init__(self, db: Database, tables: BusTables, js: JetStreamContext, settings: ServiceSettings) -> None:
        self.db, self.tables, self.js, self.settings = db, tables, js, settings
        self.service = settings.service_name
        self.wakeup = asyncio.Event()
        self._last_check = 0.0
        self._last_prune = 0.0

    async def publish_pending(self) -> int:
        """Publish one batch of unpublished rows; returns how many were published."""
        t = self.tables.outbox
        async with self.db.transaction() as session:
            rows = (
                await session.execute(
                    sa.select(t.c.seq, t.c.event_id, t.c.event_type, t.c.payload)
                    .where(t.c.published_at.is_(None))
                    .order_by(t.c.seq)
                    .limit(self.settings.outbox_batch_size)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            done = 0
            for row in rows:
                try:
                    with span(f"publish {row.event_type}", SpanKind.PRODUCER, _trace_parent(row.payload)):
                        ack = await self.js.publish(
                            self.settings.subject(row.event_type),
                            encode(row.payload),
                            headers=nats_headers(row.event_id),
                            timeout=5,
                        )
                except Exception as exc:  # broker down or slow: keep the row, try again later
                    await session.execute(
                        sa.update(t).where(t.c.seq == row.seq).values(attempts=t.c.attempts + 1, last_error=repr(exc))
                    )
                    OUTBOX_RELAY_STALLS.labels(self.service).inc()
                    log.warning("outbox publish failed", extra={"event_id": str(row.event_id), "error": repr(exc)})
                    break  # keep order: later rows wait for this one
                await session.execute(
                    sa.update(t)
                    .where(t.c.seq == row.seq)
                    .values(published_at=sa.func.now(), stream_seq=ack.seq, last_error=None)
                )
                done += 1
            OUTBOX_PUBLISHED.labels(self.service).inc(done)
        return done

    async def pending_count(self) -> int:
        return (await outbox_backlog(self.db, self.tables))[0]

    async def stream_has_our_last_event(self) -> bool:
        """False when the stream lost what we published (deleted, wiped, recreated, or behind).

        Checks the oldest and the newest retained event: a stream that was lost and
        recreated may already hold newer events, but not the old ones at their old
        sequence numbers (the stream keeps messages longer than the outbox does).
        """
        t = self.tables.outbox
        published = sa.select(t.c.event_id, t.c.stream_seq).where(
            t.c.published_at.is_not(None), t.c.stream_seq.is_not(None)
        )
        async with self.db.sessions() as session:
            newest = (await session.execute(published.order_by(t.c.seq.desc()).limit(1))).first()
            oldest = (await session.execute(published.order_by(t.c.seq).limit(1))).first()
        for row in (newest, oldest):
            if row is None:
                continue
            try:
                msg = await self.js.get_msg(self.settings.stream_name, seq=row.stream_seq)
            except nats.js.errors.NotFoundError:
                return False
            except Exception:  # noqa: BLE001 - cannot tell now; check again later
                return True
            if (msg.headers or {}).get("Nats-Msg-Id") != str(row.event_id):
                return False
        return True

    async def replay(self, since: dt.datetime | None = None) -> int:
        """Re-publish every retained event (in order). Consumers' inboxes make this harmless."""
        return await replay_outbox(self.db, self.tables, self.js, self.settings, since=since)

    async def prune(self) -> int:
        t = self.tables.outbox
        cutoff = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=self.settings.outbox_retention_days)
        async with self.db.transaction() as session:
            result = await session.execute(sa.delete(t).where(t.c.published_at.is_not(None), t.c.published_at < cutoff))
        return result.rowcount or 0

    async def run(self, stop: asyncio.Event) -> None:
        """Leader loop: take the advisory lock, then publish, check the stream, prune."""
        lock_id = _relay_lock_id(self.service)
        while not stop.is_set():
            try:
                async with self.db.engine.connect() as lock_conn:
                    # Autocommit: the lock is session-level, so the connection needs no
                    # transaction; an open one would sit `idle in transaction` and pin xmin.
                    await lock_conn.execution_options(isolation_level="AUTOCOMMIT")
                    got = await lock_conn.scalar(sa.select(sa.func.pg_try_advisory_lock(lock_id)))
                    if not got:
                        await _sleep_or_stop(stop, 2.0)
                        continue
                    log.info("outbox relay is leader", extra={"service": self.service})
                    try:
                        await self._lead(stop, lock_conn)
                    finally:
                        with contextlib.suppress(Exception):
                            await lock_conn.scalar(sa.select(sa.func.pg_advisory_unlock(lock_id)))
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # database away: wait and try again, never give up
                log.warning("outbox relay error", extra={"error": repr(exc)})
                await _sleep_or_stop(stop, 1.0)

    async def _lead(self, stop: asyncio.Event, lock_conn: Any) -> None:
        loop = asyncio.get_running_loop()
        while not stop.is_set():
            published = await self.publish_pending()
            now = loop.time()
            if now - self._last_check >= self.settings.stream_check_interval_s:
                self._last_check = now
                await lock_conn.scalar(sa.select(1))  # keeps the leader's connection (and lock) alive
                if not await self.stream_has_our_last_event():
                    log.error("stream lost published events; replaying the outbox", extra={"service": self.service})
                    await self.replay()
                OUTBOX_PENDING.labels(self.service).set(await self.pending_count())
            if now - self._last_prune >= 3600:
                self._last_prune = now
                await self.prune()
            if published < self.settings.outbox_batch_size:
                self.wakeup.clear()
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(self.wakeup.wait(), self.settings.outbox_poll_interval_s)


async def outbox_backlog(db: Database, tables: BusTables) -> tuple[int, float]:
    """(unpublished events, age in seconds of the oldest of them, 0 when none)."""
    t = tables.outbox
    async with db.sessions() as session:
        row = (
            await session.execute(
                sa.select(
                    sa.func.count(),
                    sa.func.coalesce(sa.func.extract("epoch", sa.func.now() - sa.func.min(t.c.created_at)), 0),
                ).where(t.c.published_at.is_(None))
            )
        ).one()
    return int(row[0]), float(row[1])


async def outbox_head(db: Database, tables: BusTables) -> tuple[str, int, str | None, float] | None:
    """The oldest unpublished event: (event id, failed attempts, last error, age in seconds); None when all went out."""
    t = tables.outbox
    async with db.sessions() as session:
        row = (
            await session.execute(
                sa.select(
                    t.c.event_id, t.c.attempts, t.c.last_error,
                    sa.func.extract("epoch", sa.func.now() - t.c.created_at),
                ).where(t.c.published_at.is_(None)).order_by(t.c.seq).limit(1)
            )
        ).first()
    return None if row is None else (str(row[0]), int(row[1]), row[2], float(row[3]))


async def replay_outbox(
    db: Database, tables: BusTables, js: JetStreamContext, settings: ServiceSettings, since: dt.datetime | None = None
) -> int:
    """Publish all retained, already-published events again, oldest first."""
    from shared.bus.nats import ensure_stream

    await ensure_stream(js, settings)  # the stream may be gone altogether
    t = tables.outbox
    count, last_seq = 0, 0
    while True:
        async with db.sessions() as session:
            query = sa.select(t.c.seq, t.c.event_id, t.c.event_type, t.c.payload).where(
                t.c.published_at.is_not(None), t.c.seq > last_seq
            )
            if since is not None:
                query = query.where(t.c.created_at >= since)
            rows = (await session.execute(query.order_by(t.c.seq).limit(500))).all()
        if not rows:
            break
        for row in rows:
            ack = await js.publish(
                settings.subject(row.event_type), encode(row.payload), headers=nats_headers(row.event_id)
            )
            async with db.transaction() as session:
                await session.execute(sa.update(t).where(t.c.seq == row.seq).values(stream_seq=ack.seq))
            last_seq = row.seq
            count += 1
    OUTBOX_REPLAYED.labels(settings.service_name).inc(count)
    log.info("outbox replayed", extra={"service": settings.service_name, "events": count})
    return count


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(asyncio.TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
