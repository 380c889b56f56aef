"""Idempotent durable consumers: inbox row + effect in one transaction, ack after commit."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import nats.errors
import orjson
import pydantic
import sqlalchemy as sa
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError
from opentelemetry.trace import SpanKind
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus.handlers import Handler
from shared.bus.nats import ensure_stream
from shared.bus.tables import BusTables
from shared.config import ServiceSettings
from shared.db import Database
from shared.events.envelope import CloudEvent
from shared.events.models import EVENT_TYPES, EventData
from shared.logs import correlation_id
from shared.metrics import EVENTS_CONSUMED
from shared.tracing import span

log = logging.getLogger(__name__)

class Refused(Exception):
    """A handler's business refusal: the event is valid but cannot be carried out (a rule says no).

    Not retried and never dead-lettered: the consumer rolls the handler's work back, then in
    one transaction records the inbox row (outcome "refused", the reason) and runs
    `compensate(session)`, e.g. writing the event that tells the other services to undo their step.
    """

    def __init__(self, reason: str, compensate: Callable[[AsyncSession], Awaitable[None]] | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.compensate = compensate


class PoisonMessage(Exception):
    """The message can never be handled (not a CloudEvent, or its data breaks the schema)."""


def durable_name(service: str, subject_filter: str) -> str:
    return f"{service}-" + subject_filter.replace(".", "_").replace(">", "all").replace("*", "any")


def parse(raw: bytes) -> tuple[CloudEvent, EventData | None]:
    try:
        event = CloudEvent.model_validate(orjson.loads(raw))
    except (orjson.JSONDecodeError, pydantic.ValidationError) as exc:
        raise PoisonMessage(f"not a CloudEvent: {exc}") from exc
    model = EVENT_TYPES.get(event.type)
    if model is None:
        return event, None
    try:
        return event, model.model_validate(event.data)
    except pydantic.ValidationError as exc:
        raise PoisonMessage(f"{event.type} data invalid: {exc}") from exc


class Consumer:
    """One durable pull consumer of a service on one subject filter (NATS 2.9: one filter each)."""

    def __init__(
        self,
        db: Database,
        tables: BusTables,
        js: JetStreamContext,
        settings: ServiceSettings,
        subject_filter: str,
        handlers: dict[str, Handler],
        after_commit: Callable[[], None] | None = None,
    ) -> None:
        self.db, self.tables, self.js, self.settings = db, tables, js, settings
        self.subject_filter = subject_filter
        self.handlers = handlers
        self.name = durable_name(settings.service_name, subject_filter)
        self.after_commit = after_commit or (lambda: None)
        self._sub: Any = None

    def config(self) -> ConsumerConfig:
        return ConsumerConfig(
            durable_name=self.name,
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=self.settings.consumer_ack_wait_s,
            max_deliver=-1,  # we count deliveries ourselves and dead-letter, so nothing is dropped silently
            filter_subject=self.settings.subject(self.subject_filter),
            max_ack_pending=1000,
        )

    async def subscribe(self) -> None:
        await ensure_stream(self.js, self.settings)
        self._sub = await self.js.pull_subscribe(
            self.settings.subject(self.subject_filter),
            durable=self.name,
            stream=self.settings.stream_name,
            config=self.config(),
        )

    async def fetch_and_handle(self) -> int:
        """One fetch; returns the number of messages handled (0 on an empty poll)."""
        if self._sub is None:
            await self.subscribe()
        try:
            msgs = await self._sub.fetch(
                batch=self.settings.consumer_batch_size, timeout=self.settings.consumer_fetch_timeout_s
            )
        except (nats.errors.TimeoutError, asyncio.TimeoutError):
            return 0
        if self.settings.consumer_batch_transaction and len(msgs) > 1:
            await self.handle_batch(msgs)
        else:
            for msg in msgs:
                await self.handle(msg)
        return len(msgs)

    async def handle_batch(self, msgs: list[Msg]) -> None:
        """Fold a fetched batch in one transaction: under a burst the commit per event is what limits
        the rate. The batch's inbox rows are claimed in one statement, and a run of consecutive events
        of one type whose handler has a set-based variant (`Handler.many`) is folded in one call, so a
        burst costs a few statements per batch instead of several per event. Nothing is acked before
        the commit; if any event of the batch fails, is refused or does not parse, the whole transaction
        rolls back and the batch is handled one event at a time, so retries, refusals, backoff and dead
        letters are exactly those of `handle`."""
        try:
            parsed = [(msg, *parse(msg.data)) for msg in msgs]
        except PoisonMessage:
            parsed = None
        outcomes: list[tuple[Msg, CloudEvent, str]] = []
        if parsed is not None:
            try:
                async with self.db.transaction() as session:
                    outcomes = await self._claim_and_handle_batch(session, parsed)
            except Exception as exc:  # noqa: BLE001 - rolled back as a whole (a Refused too): each event on its own below
                log.info("batch transaction failed; handling its events one by one", extra={"error": repr(exc)})
                parsed = None
        if parsed is None:
            for msg in msgs:
                await self.handle(msg)
            return
        # an ack is a publish without a reply (nats-py buffers it): the batch's acks leave in one flush
        for msg, event, outcome in outcomes:
            await msg.ack()
            EVENTS_CONSUMED.labels(self.name, event.type, outcome).inc()
        if any(outcome != "duplicate" for _, _, outcome in outcomes):
            self.after_commit()

    async def _claim_and_handle_batch(self, session: Any, parsed: list[tuple[Msg, CloudEvent, EventData | None]]
                                      ) -> list[tuple[Msg, CloudEvent, str]]:
        """The batch's inbox rows in one statement, then each claimed event's effect in stream order: a run
        of one event type with a set-based handler in one call, any other event on its own."""
        claimed = await self._claim_many(session, [event for _, event, _ in parsed])
        outcomes: list[tuple[Msg, CloudEvent, str]] = []
        run: list[tuple[CloudEvent, EventData]] = []

        async def fold_run() -> None:
            if run:
                with span(f"consume {run[0][0].type} (set-based)", SpanKind.CONSUMER,
                          **{"messaging.consumer.group.name": self.name, "messaging.batch.message_count": str(len(run))}):
                    await self.handlers[run[0][0].type].many(session, run)  # type: ignore[attr-defined]
                run.clear()

        for msg, event, data in parsed:
            handler = self.handlers.get(event.type)
            if event.id not in claimed:
                outcomes.append((msg, event, "duplicate"))
                continue
            claimed.discard(event.id)  # the same event twice in one batch: its later copy is a duplicate
            outcomes.append((msg, event, "handled" if handler else "ignored"))
            if handler is None or data is None:
                continue
            if getattr(handler, "many", None) is not None:
                if run and run[0][0].type != event.type:
                    await fold_run()
                run.append((event, data))
                continue
            await fold_run()
            token = correlation_id.set(event.correlationid)
            try:
                with self._span(event):
                    await handler(session, event, data)
            finally:
                correlation_id.reset(token)
        await fold_run()
        return outcomes

    async def _claim_many(self, session: Any, events: list[CloudEvent]) -> set[Any]:
        """Inbox rows for these events in one statement; returns the ids claimed now (not seen before)."""
        t = self.tables.processed_events
        ids = sorted({e.id for e in events})  # one order for every replica: two batches sharing events wait, not deadlock
        types = {e.id: e.type for e in events}
        rows = await session.execute(
            pg_insert(t)
            .from_select(["consumer", "event_id", "event_type"], sa.select(
                sa.literal(self.name, t.c.consumer.type),
                sa.func.unnest(sa.cast(sa.bindparam("ids"), postgresql.ARRAY(t.c.event_id.type))),
                sa.func.unnest(sa.cast(sa.bindparam("types"), postgresql.ARRAY(sa.Text)))))
            .on_conflict_do_nothing()
            .returning(t.c.event_id),
            {"ids": ids, "types": [types[i] for i in ids]},
        )
        return set(rows.scalars().all())

    async def _claim_and_handle(self, session: Any, event: CloudEvent, data: EventData | None) -> str:
        """Inbox row + the handler's effect in the caller's transaction: handled, ignored or duplicate."""
        handler = self.handlers.get(event.type)
        with self._span(event):
            if await self._claim(session, event) is None:
                return "duplicate"
            if handler is not None and data is not None:
                await handler(session, event, data)
        return "handled" if handler else "ignored"

    def _span(self, event: CloudEvent) -> Any:
        traceparent = getattr(event, "traceparent", None)  # CloudEvents extension: continue the producer's trace
        return span(f"consume {event.type}", SpanKind.CONSUMER, {"traceparent": traceparent} if traceparent else None,
                    **{"messaging.consumer.group.name": self.name})

    async def apply(self, event: CloudEvent, data: EventData | None) -> str:
        """Handle one parsed event: inbox row + effect in one transaction. Returns the outcome
        (handled, ignored, duplicate, refused); a transient failure raises (nothing committed).

        A business refusal (`Refused`) rolls the handler's work back, then records the inbox
        row with outcome "refused" and the reason, together with the refusal's compensation.
        """
        try:
            async with self.db.transaction() as session:
                outcome = await self._claim_and_handle(session, event, data)
        except Refused as refusal:
            async with self.db.transaction() as session:
                inserted = await self._claim(session, event, outcome="refused", detail=refusal.reason)
                if inserted is not None and refusal.compensate is not None:
                    await refusal.compensate(session)
            if inserted is None:
                return "duplicate"
            log.warning("event refused", extra={"event_id": str(event.id), "event_type": event.type, "reason": refusal.reason})
            self.after_commit()
            return "refused"
        if outcome != "duplicate":
            self.after_commit()
        return outcome

    async def _claim(self, session: Any, event: CloudEvent, outcome: str | None = None, detail: str | None = None) -> Any:
        return await session.scalar(
            pg_insert(self.tables.processed_events)
            .values(consumer=self.name, event_id=event.id, event_type=event.type, outcome=outcome,
                    detail=detail[:4000] if detail else None)
            .on_conflict_do_nothing()
            .returning(self.tables.processed_events.c.event_id)
        )

    async def handle(self, msg: Msg) -> None:
        deliveries = msg.metadata.num_delivered if msg.metadata else 1
        try:
            event, data = parse(msg.data)
        except PoisonMessage as exc:
            await self._dead_letter(msg, None, str(exc), deliveries)
            await msg.term()
            EVENTS_CONSUMED.labels(self.name, "unknown", "poison").inc()
            return
        token = correlation_id.set(event.correlationid)
        try:
            try:
                outcome = await self.apply(event, data)
            except Exception as exc:  # the effect rolled back with the inbox row: safe to retry
                if deliveries >= self.settings.consumer_max_deliver:
                    log.error("event dead-lettered after retries", extra={"event_id": str(event.id), "error": repr(exc)})
                    await self._dead_letter(msg, str(event.id), repr(exc), deliveries)
                    await msg.term()
                    EVENTS_CONSUMED.labels(self.name, event.type, "dead_letter").inc()
                else:
                    backoff = self.settings.consumer_backoff_s
                    delay = backoff[min(deliveries - 1, len(backoff) - 1)]
                    log.warning("event handler failed; will retry", extra={"event_id": str(event.id), "error": repr(exc)})
                    await msg.nak(delay=delay)
                    EVENTS_CONSUMED.labels(self.name, event.type, "retry").inc()
                return
            await msg.ack()
            EVENTS_CONSUMED.labels(self.name, event.type, outcome).inc()
        finally:
            correlation_id.reset(token)

    async def _dead_letter(self, msg: Msg, event_id: str | None, error: str, deliveries: int) -> None:
        async with self.db.transaction() as session:
            await session.execute(
                sa.insert(self.tables.dead_letters).values(
                    consumer=self.name,
                    event_id=event_id,
                    subject=msg.subject,
                    payload=msg.data.decode("utf-8", errors="replace"),
                    error=error[:4000],
                    deliveries=deliveries,
                )
            )

    async def run(self, stop: asyncio.Event) -> None:
        idle, errors = 0, 0
        while not stop.is_set():
            try:
                handled = await self.fetch_and_handle()
                errors = 0
                idle = 0 if handled else idle + 1
                if idle and idle % 15 == 0:
                    # A restarted or wiped server can leave a pull subscription silent.
                    try:
                        await self.js.consumer_info(self.settings.stream_name, self.name)
                    except NotFoundError:
                        log.warning("consumer missing; recreating", extra={"consumer": self.name})
                        self._sub = None
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                errors += 1
                log.warning("consumer error", extra={"consumer": self.name, "error": repr(exc)})
                if errors >= 3:
                    self._sub = None
                await asyncio.sleep(min(0.5 * errors, 5.0))
