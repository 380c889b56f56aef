"""Event envelope, payload models and the AsyncAPI export."""

from shared.events.envelope import CloudEvent
from shared.events.models import EVENT_TYPES, EventData

__all__ = ["EVENT_TYPES", "CloudEvent", "EventData"]
