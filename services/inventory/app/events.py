"""Event wiring of the inventory service: which subjects it consumes and who handles them."""

from shared.bus.consumer import Handler

# subject filter (one durable consumer each) -> {event type: handler}
HANDLERS: dict[str, dict[str, Handler]] = {}
