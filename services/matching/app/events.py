"""Event wiring of the matching service: the read model folds inventory.* and sites.*, the matcher reacts.

`react` is a binding option: the live service reacts, a read-model rebuild only folds.
"""

from __future__ import annotations

from services.matching.app.proposals import reactions
from shared.bus.handlers import EventHandlers
from shared.runtime import ServiceRuntime

handlers = EventHandlers[ServiceRuntime]()

# set-based variants for a run of one event type in a batch (the events of a burst)
MANY = {reactions.placement_expiring: reactions.placement_expiring_many, reactions.site_changed: reactions.site_changed_many}

for subject_filter, event_types, handler in (
    ("inventory.>", ("inventory.complex.registered",), reactions.complex_registered),
    ("inventory.>", ("inventory.placement.created",), reactions.placement_created),
    ("inventory.>", ("inventory.placement.expiring",), reactions.placement_expiring),
    ("inventory.>", ("inventory.placement.ended",), reactions.placement_ended),
    ("inventory.>", ("inventory.relocation.scheduled",), reactions.relocation_scheduled),
    ("inventory.>", ("inventory.placement.fallback",), reactions.placement_fallback),
    ("inventory.>", ("inventory.placement.closed",), reactions.placement_closed),
    ("inventory.>", ("inventory.placement.updated",), reactions.placement_updated),
    ("inventory.>", ("inventory.placement.started",), reactions.placement_started),
    ("inventory.>", ("inventory.relocation.refused",), reactions.relocation_refused),
    ("inventory.>", ("inventory.clock.set",), reactions.clock_set),
    ("sites.>", ("sites.site.published", "sites.site.updated"), reactions.site_changed),
    ("sites.>", ("sites.site.withdrawn",), reactions.site_withdrawn),
    ("sites.>", ("sites.reservation.confirmed",), reactions.reservation_confirmed),
    ("sites.>", ("sites.reservation.rejected",), reactions.reservation_rejected),
    ("sites.>", ("sites.reservation.released",), reactions.reservation_released),
):
    handlers.on(subject_filter, *event_types, many=MANY.get(handler))(handler)
