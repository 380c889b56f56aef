"""What a running service holds: settings, database, NATS, the outbox relay and consumers."""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import sqlalchemy as sa
from nats.aio.client import Client as NATS
from nats.js import JetStreamContext
from sqlalchemy.ext.asyncio import AsyncSession

from shared.bus import dead_letters
from shared.bus.consumer import Consumer
from shared.bus.handlers import EventHandlers
from shared.bus.nats import connect, ensure_stream
from shared.bus.outbox import OutboxBatch, OutboxRelay, outbox_backlog, outbox_head, record_event
from shared.bus.tables import BusTables
from shared.clock import Clock
from shared.config import ServiceSettings
from shared.db import Database
from shared.events.envelope import CloudEvent
from shared.events.models import EventData
from shared.metrics import (
    CONSUMER_ACK_PENDING,
    CONSUMER_PENDING,
    DEAD_LETTERS,
    DEPENDENCY_UP,
    OUTBOX_OLDEST_AGE,
    OUTBOX_PENDING,
)

log = logging.getLogger(__name__)

BackgroundTask = Callable[["ServiceRuntime", asyncio.Event], Awaitable[None]]
StartStep = Callable[["ServiceRuntime"], Awaitable[None]]

_EMIT_BATCH: contextvars.ContextVar[OutboxBatch | None] = contextvars.ContextVar("emit_batch", default=None)


class ServiceRuntime:
    """Starts and stops a service's moving parts; endpoints reach it as `request.app.state.runtime`.

    `handlers` is the service's registry; bound to this runtime it maps a subject filter
    (one durable consumer each) to {event type: handler}.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        tables: BusTables | None = None,
        handlers: EventHandlers[ServiceRuntime] | None = None,
        background: list[BackgroundTask] | None = None,
        startup: list[StartStep] | None = None,
    ) -> None:
        self.settings = settings
        self.tables = tables
        self.handlers = handlers.bind(self) if handlers is not None else {}
        self.background = background or []
        self.startup = startup or []  # e.g. take over the persisted product clock offset
        self.cache: dict[str, Any] = {}  # a service's in-process caches (e.g. matching's policy in force)
        self.clock = Clock(settings.today)
        self.db: Database | None = None
        if tables is not None:
            if not settings.database_url:
                raise RuntimeError(f"{settings.service_name}: DATABASE_URL is not set")
            self.db = Database(
                settings.database_url,
                service=settings.service_name,
                pool_size=settings.db_pool_size,
                max_overflow=settings.db_max_overflow,
            )
        self.nc: NATS | None = None
        self.js: JetStreamContext | None = None
        self.relay: OutboxRelay | None = None
        self.consumers: list[Consumer] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self.nats_ready = asyncio.Event()
        self.commit_listeners: list[Callable[[], None]] = []  # background loops woken by a commit (e.g. a matcher)

    # -- lifecycle

    async def start(self, *, background: bool | None = None) -> None:
        run_background = self.settings.start_background if background is None else background
        for step in self.startup:
            try:
                await step(self)
            except Exception:  # database not up yet: the service still starts; later reads catch up
                log.exception("start step failed", extra={"step": getattr(step, "__qualname__", repr(step))})
        if self.tables is None and not self.handlers:
            return  # the gateway: no database, no events
        if run_background:
            self._tasks.append(asyncio.create_task(self._connect_then_run(), name="bus"))
        else:
            await self.connect_bus()

    async def connect_bus(self) -> None:
        self.nc = await connect(self.settings)
        self.js = self.nc.jetstream()
        await ensure_stream(self.js, self.settings)
        if self.db is not None and self.tables is not None:
            self.relay = OutboxRelay(self.db, self.tables, self.js, self.settings)
            self.consumers = [
                Consumer(self.db, self.tables, self.js, self.settings, subject_filter, handlers, after_commit=self.nudge)
                for subject_filter, handlers in self.handlers.items()
            ]
        self.nats_ready.set()

    async def _connect_then_run(self) -> None:
        delay = 0.5
        while not self._stop.is_set():
            try:
                await self.connect_bus()
                break
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # NATS not up yet: the API still works, the outbox keeps events
                log.warning("cannot reach NATS yet", extra={"error": repr(exc)})
                if self.nc is not None:
                    with contextlib.suppress(Exception):
                        await self.nc.close()
                    self.nc = None
                await asyncio.sleep(delay)
                delay = min(delay * 2, 5.0)
        if self._stop.is_set():
            return
        loops: list[Awaitable[Any]] = []
        if self.relay is not None:
            loops.append(self.relay.run(self._stop))
        loops += [c.run(self._stop) for c in self.consumers]
        loops += [task(self, self._stop) for task in self.background]
        # tasks on the loops themselves: one cancelled before its first step closes its coroutine (no
        # "never awaited" warning at a quick shutdown); a crash is logged by the callback
        for loop in loops:
            self._tasks.append(asyncio.create_task(loop))
            self._tasks[-1].add_done_callback(_report_crash)

    async def stop(self) -> None:
        self._stop.set()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self._tasks.clear()
        if self.nc is not None:
            # close, not drain: the loops are stopped already, and drain waits out the
            # pull subscriptions' timeout; unacked messages are simply redelivered.
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.nc.flush(), 2)
            with contextlib.suppress(Exception):
                await self.nc.close()
        if self.db is not None:
            await self.db.dispose()

    # -- helpers for endpoints and handlers

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncSession]:
        """The unit of work that may emit events: commits, then wakes the relay to publish them.

        Requests get it through `shared.web.deps.WriteSession`; background jobs (expiry scans,
        proposal expiry) open it here. Consumers run handlers in their inbox transaction.
        """
        assert self.db is not None
        async with self.db.transaction() as session:
            yield session
        self.nudge()

    def nudge(self) -> None:
        """Wake the relay (and any commit listener) right away after a commit that wrote outbox or inbox rows."""
        if self.relay is not None:
            self.relay.wakeup.set()
        for listener in self.commit_listeners:
            listener()

    async def emit(self, session: AsyncSession, event_type: str, aggregate_id: Any, data: EventData) -> CloudEvent:
        assert self.tables is not None
        batch = _EMIT_BATCH.get()
        if batch is not None:
            return batch.add(event_type, aggregate_id, data)
        return await record_event(session, self.tables, self.settings.service_name, event_type, aggregate_id, data)

    @contextlib.asynccontextmanager
    async def batched_emits(self, session: AsyncSession) -> AsyncIterator[OutboxBatch]:
        """Events emitted inside are written to the outbox in one statement when the block ends (same
        transaction, same order; `await batch.write(session)` writes what is gathered so far): for a
        job that emits many events at once."""
        assert self.tables is not None
        batch = OutboxBatch(self.tables, self.settings.service_name)
        token = _EMIT_BATCH.set(batch)
        try:
            yield batch
        finally:
            _EMIT_BATCH.reset(token)
        await batch.write(session)

    async def readiness(self) -> dict[str, str]:
        """Each dependency: "ok", "unavailable: ..." (not ready) or "degraded: ..." (still ready).

        NATS down degrades, it does not unready: writes still commit (the outbox keeps the
        events until NATS returns), so taking the API out of rotation would only hurt.
        """
        checks: dict[str, str] = {}
        service = self.settings.service_name
        if self.db is not None:
            try:
                await asyncio.wait_for(self.db.ping(), 2)
                checks["database"] = "ok"
            except Exception as exc:  # noqa: BLE001
                checks["database"] = f"unavailable: {type(exc).__name__}"
            DEPENDENCY_UP.labels(service, "database").set(checks["database"] == "ok")
        if self.tables is not None or self.handlers:
            # with an outbox the service writes on without NATS; without one it needs NATS
            broken = "degraded" if self.db is not None else "unavailable"
            if self.js is None or self.nc is None or not self.nc.is_connected:
                checks["jetstream"] = f"{broken}: not connected (events wait in the outbox)"
            else:
                try:
                    await asyncio.wait_for(self.js.account_info(), 2)
                    checks["jetstream"] = "ok"
                except Exception as exc:  # noqa: BLE001
                    checks["jetstream"] = f"{broken}: {type(exc).__name__} (events wait in the outbox)"
            DEPENDENCY_UP.labels(service, "jetstream").set(checks["jetstream"] == "ok")
        if self.tables is not None and checks.get("database") == "ok":
            checks["outbox"] = await self._outbox_check()
        return checks

    async def _outbox_check(self) -> str:
        """A head event the relay cannot publish holds back every later one (order is kept): say so, naming it."""
        assert self.db is not None and self.tables is not None
        try:
            head = await asyncio.wait_for(outbox_head(self.db, self.tables), 2)
        except Exception as exc:  # noqa: BLE001 - the database check above reports the cause
            return f"degraded: outbox not readable ({type(exc).__name__})"
        if head is None or head[3] < self.settings.outbox_stall_after_s:
            return "ok"
        event_id, attempts, error, age = head
        log.error("outbox head event not published", extra={"event_id": event_id, "attempts": attempts, "error": error})
        return f"degraded: event {event_id} unpublished for {age:.0f} s after {attempts} attempts ({error or 'relay not running'})"

    async def refresh_metrics(self) -> None:
        """Update the gauges about state outside the process (called on each /metrics scrape)."""
        if self.db is None or self.tables is None:
            return
        service = self.settings.service_name
        with contextlib.suppress(Exception):
            pending, age = await asyncio.wait_for(outbox_backlog(self.db, self.tables), 2)
            OUTBOX_PENDING.labels(service).set(pending)
            OUTBOX_OLDEST_AGE.labels(service).set(age)
        with contextlib.suppress(Exception):
            async with self.db.sessions() as session:
                count = await asyncio.wait_for(dead_letters.count_open(session, self.tables), 2)
            DEAD_LETTERS.labels(service).set(count or 0)
        if self.js is None or self.nc is None or not self.nc.is_connected:
            return  # keep the last known lag: it cannot shrink while NATS is away
        for consumer in self.consumers:
            with contextlib.suppress(Exception):
                info = await asyncio.wait_for(self.js.consumer_info(self.settings.stream_name, consumer.name), 2)
                CONSUMER_PENDING.labels(consumer.name).set(info.num_pending or 0)
                CONSUMER_ACK_PENDING.labels(consumer.name).set(info.num_ack_pending or 0)


def _report_crash(task: asyncio.Task) -> None:
    """A background loop that ended with an exception is logged; the API keeps serving."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background loop crashed", exc_info=task.exception())
