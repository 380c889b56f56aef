"""The one way a service declares what it consumes: a registry of subject filter -> event type -> handler.

    handlers = EventHandlers[ServiceRuntime]()

    @handlers.on("sites.>", "sites.reservation.confirmed")
    async def reservation_confirmed(session, runtime, data: ReservationConfirmed) -> None:
        await relocations.schedule(session, runtime, data)

Handlers only call a service; `bind(context)` gives the consumers what they call
(one durable consumer per subject filter). A handler may have a set-based variant, `many`, that folds
a run of events of its type from one batch at once (the consumer's batch transaction calls it; it must
have the effect of calling the handler for each event in turn):

    handlers.on("inventory.>", "inventory.placement.expiring", many=placement_expiring_many)(placement_expiring)
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from shared.events.envelope import CloudEvent
from shared.events.models import EVENT_TYPES, EventData

C = TypeVar("C")

# What a consumer calls, inside the transaction that also writes the inbox row; a bound handler
# with a set-based variant carries it as its attribute `many(session, [(event, data), ...])`.
Handler = Callable[[AsyncSession, CloudEvent, EventData], Awaitable[None]]
ServiceHandler = Callable[..., Awaitable[None]]  # (session, context, data, **options)
ServiceManyHandler = Callable[..., Awaitable[None]]  # (session, context, [data, ...], **options)


class EventHandlers(Generic[C]):
    def __init__(self) -> None:
        self._routes: dict[str, dict[str, ServiceHandler[C]]] = {}
        self._many: dict[str, ServiceManyHandler] = {}

    def on(self, subject_filter: str, *event_types: str, many: ServiceManyHandler | None = None
           ) -> Callable[[ServiceHandler[C]], ServiceHandler[C]]:
        """Register the decorated `handler(session, context, data)` for these event types, and `many`
        (session, context, [data, ...]) as its set-based variant for a run of them."""
        unknown = [t for t in event_types if t not in EVENT_TYPES]
        if unknown or not event_types:
            raise ValueError(f"no event model for {unknown or 'an empty list'}")

        def register(handler: ServiceHandler[C]) -> ServiceHandler[C]:
            taken = [t for routes in self._routes.values() for t in routes if t in event_types]
            if taken:
                raise ValueError(f"{taken} would be handled twice")
            routes = self._routes.setdefault(subject_filter, {})
            for event_type in event_types:
                routes[event_type] = handler
                if many is not None:
                    self._many[event_type] = many
            return handler

        return register

    def bind(self, context: C, **options: Any) -> dict[str, dict[str, Handler]]:
        """subject filter -> {event type: handler} with `context` (the runtime) and any keyword `options` bound in."""
        return {
            subject_filter: {event_type: _bound(handler, self._many.get(event_type), context, options)
                             for event_type, handler in routes.items()}
            for subject_filter, routes in self._routes.items()
        }


def _bound(handler: ServiceHandler[C], many: ServiceManyHandler | None, context: C, options: dict[str, Any]) -> Handler:
    @functools.wraps(handler)
    async def handle(session: AsyncSession, event: CloudEvent, data: EventData) -> None:
        await handler(session, context, data, **options)

    async def handle_many(session: AsyncSession, events: list[tuple[CloudEvent, EventData]]) -> None:
        await many(session, context, [data for _, data in events], **options)  # type: ignore[misc]

    handle.many = handle_many if many is not None else None  # type: ignore[attr-defined]
    return handle
