"""The one way a row becomes an API schema: read the schema's fields from the row's attributes.

Fields the row does not carry under the schema's name (derived, joined or renamed) are
given as keywords, so every mapping reads the same:
`to_schema(PlacementOut, placement, status=status)`.
"""

from __future__ import annotations

from typing import Any, TypeVar

from pydantic import BaseModel

S = TypeVar("S", bound=BaseModel)


class _WithExtra:
    """The row, with some attributes given explicitly (they win over the row's own)."""

    __slots__ = ("_row", "_extra")

    def __init__(self, row: object, extra: dict[str, Any]) -> None:
        self._row, self._extra = row, extra

    def __getattr__(self, name: str) -> Any:
        extra = object.__getattribute__(self, "_extra")
        if name in extra:
            return extra[name]
        return getattr(object.__getattribute__(self, "_row"), name)


def to_schema(schema: type[S], row: object, **extra: Any) -> S:
    return schema.model_validate(_WithExtra(row, extra) if extra else row, from_attributes=True)
