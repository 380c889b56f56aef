"""The library's idioms on their own: the event-handler registry and the row -> schema mapping."""

from __future__ import annotations

import dataclasses
import uuid

import pytest
from pydantic import BaseModel

from shared.bus.handlers import EventHandlers
from shared.events.envelope import CloudEvent
from shared.events.models import EVENT_TYPES
from shared.web.mapping import to_schema

TYPE_A, TYPE_B = sorted(EVENT_TYPES)[:2]


async def test_handlers_are_bound_per_subject_filter_with_their_context_and_options() -> None:
    registry = EventHandlers[str]()
    calls: list[tuple] = []

    @registry.on("x.>", TYPE_A, TYPE_B)
    async def handle(session: object, context: str, data: object, react: bool = True) -> None:
        calls.append((session, context, data, react))

    bound = registry.bind("runtime", react=False)
    assert list(bound) == ["x.>"] and set(bound["x.>"]) == {TYPE_A, TYPE_B}
    event = CloudEvent(source="test", type=TYPE_A, subject="s", data={})
    await bound["x.>"][TYPE_A]("session", event, "data")  # type: ignore[arg-type]
    assert calls == [("session", "runtime", "data", False)]


def test_an_event_type_is_handled_once_and_must_exist() -> None:
    registry = EventHandlers[None]()

    @registry.on("x.>", TYPE_A)
    async def first(session: object, context: None, data: object) -> None: ...

    with pytest.raises(ValueError, match="twice"):
        registry.on("y.>", TYPE_A)(first)
    with pytest.raises(ValueError, match="no event model"):
        registry.on("x.>", "no.such.event")


class ThingOut(BaseModel):
    id: uuid.UUID
    name: str
    free: int


@dataclasses.dataclass
class ThingRow:
    id: uuid.UUID
    name: str
    capacity: int
    reserved: int


def test_to_schema_reads_the_row_and_takes_derived_fields_as_keywords() -> None:
    row = ThingRow(uuid.uuid4(), "kavel", 10, 4)
    out = to_schema(ThingOut, row, free=row.capacity - row.reserved)
    assert out == ThingOut(id=row.id, name="kavel", free=6)
    assert to_schema(ThingOut, row, name="renamed", free=0).name == "renamed"  # keywords win over the row
